namespace Trainer.Synthesis;

/// <summary>
/// One of the paper's six task groups: its command-line name, the JSON keys a generation must return (in query,
/// positive, negative order; two keys: no negative), whether it brainstorms tasks first, its share of the paper's
/// 500k rows, the completion budget, and the fixed instruction of the symmetric groups.
/// </summary>
public sealed record SynthGroup(string Name, IReadOnlyList<string> Keys, bool Brainstorms, double PaperRows, int MaxTokens, string? FixedInstruction)
{
    public static readonly SynthGroup ShortLong = new("short-long", ["user_query", "positive_document", "hard_negative_document"], true, 167_000, 2048, null);
    public static readonly SynthGroup LongShort = new("long-short", ["input_text", "label", "misleading_label"], true, 122_000, 2048, null);
    public static readonly SynthGroup ShortShort = new("short-short", ["input", "positive_document"], true, 13_000, 1024, null);
    public static readonly SynthGroup LongLong = new("long-long", ["input", "positive_document"], true, 17_000, 2048, null);
    public static readonly SynthGroup Sts = new("sts", ["S1", "S2", "S3"], false, 99_000, 1024, "Retrieve semantically similar text.");
    public static readonly SynthGroup Bitext = new("bitext", ["S1", "S2", "S3"], false, 89_000, 1024, "Retrieve parallel sentences.");

    /// <summary>All groups, in the order.</summary>
    public static IReadOnlyList<SynthGroup> All { get; } = [ShortLong, LongShort, ShortShort, LongLong, Sts, Bitext];

    /// <summary>Parses a comma-separated list of group names ("all" or empty: every group).</summary>
    public static IReadOnlyList<SynthGroup> ParseList(string? list)
    {
        if (string.IsNullOrWhiteSpace(list) || list.Trim() == "all") return All;
        var groups = new List<SynthGroup>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var group = All.FirstOrDefault(g => g.Name == name)
                        ?? throw new ArgumentException($"--groups: unknown group \"{name}\" (known: {string.Join(", ", All.Select(g => g.Name))}).");
            if (!groups.Contains(group)) groups.Add(group);
        }
        if (groups.Count == 0) throw new ArgumentException("--groups: no group named.");
        return groups;
    }

    public static SynthGroup Named(string name) => All.FirstOrDefault(g => g.Name == name) ?? throw new InvalidDataException($"unknown group \"{name}\".");
}
