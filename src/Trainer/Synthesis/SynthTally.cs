namespace Trainer.Synthesis;

/// <summary>
/// Running counts over request records and rows: what the report and the progress line print. Rows by group and
/// language; requests by status; drops by cause; HTTP errors by cause and retries; tokens and latency.
/// </summary>
public sealed class SynthTally
{
    public SortedDictionary<string, int> RowsByGroup { get; private init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, int> RowsByLanguage { get; private init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, int> Drops { get; private init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, int> HttpErrors { get; private init; } = new(StringComparer.Ordinal);
    public int Rows { get; private set; }
    public int Requests { get; private set; }
    public int Brainstorms { get; private set; }
    public int Kept { get; private set; }
    public int Dropped { get; private set; }
    public int Failed { get; private set; }
    public int Retries { get; private set; }
    public long PromptTokens { get; private set; }
    public long CompletionTokens { get; private set; }
    public double LatencyMs { get; private set; }

    public void Add(RequestRecord record)
    {
        Requests++;
        if (record.Kind == "brainstorm") Brainstorms++;
        switch (record.Status)
        {
            case "kept": Kept++; break;
            case "dropped":
                Dropped++;
                Increment(Drops, record.Cause ?? "unknown");
                break;
            default:
                Failed++;
                Increment(Drops, "http_failed");
                break;
        }
        foreach (var error in record.Errors) Increment(HttpErrors, error);
        Retries += Math.Max(0, record.Attempts - 1);
        PromptTokens += record.Usage.PromptTokens;
        CompletionTokens += record.Usage.CompletionTokens;
        LatencyMs += record.LatencyMs;
    }

    public void AddRow(SynthRow row)
    {
        Rows++;
        Increment(RowsByGroup, row.Group);
        Increment(RowsByLanguage, row.Language);
    }

    public SynthTally Copy() => new()
    {
        RowsByGroup = new(RowsByGroup, StringComparer.Ordinal),
        RowsByLanguage = new(RowsByLanguage, StringComparer.Ordinal),
        Drops = new(Drops, StringComparer.Ordinal),
        HttpErrors = new(HttpErrors, StringComparer.Ordinal),
        Rows = Rows,
        Requests = Requests,
        Brainstorms = Brainstorms,
        Kept = Kept,
        Dropped = Dropped,
        Failed = Failed,
        Retries = Retries,
        PromptTokens = PromptTokens,
        CompletionTokens = CompletionTokens,
        LatencyMs = LatencyMs,
    };

    private static void Increment(SortedDictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
}
