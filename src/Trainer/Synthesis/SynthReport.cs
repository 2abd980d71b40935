using System.Globalization;
using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// DIR/report.json and the table printed after a run. Counts cover the whole folder (every run into it);
/// <see cref="Session"/> covers this run alone (its speed). Cost is given when a price per million tokens is.
/// </summary>
public sealed record SynthReport(
    int Rows,
    int Target,
    IReadOnlyDictionary<string, int> RowsByGroup,
    IReadOnlyDictionary<string, int> RowsByLanguage,
    int Requests,
    int Brainstorms,
    int Tasks,
    int Kept,
    int Dropped,
    int Failed,
    IReadOnlyDictionary<string, int> Drops,
    IReadOnlyDictionary<string, int> HttpErrors,
    int Retries,
    long PromptTokens,
    long CompletionTokens,
    double? Cost,
    SessionReport Session)
{
    public const string FileName = "report.json";

    public static SynthReport Build(SynthTally all, int target, int tasks, SessionReport session, double? pricePrompt, double? priceCompletion)
    {
        double? cost = pricePrompt is null && priceCompletion is null
            ? null
            : (all.PromptTokens * (pricePrompt ?? 0) + all.CompletionTokens * (priceCompletion ?? 0)) / 1e6;
        return new SynthReport(all.Rows, target, all.RowsByGroup, all.RowsByLanguage, all.Requests, all.Brainstorms, tasks, all.Kept, all.Dropped,
            all.Failed, all.Drops, all.HttpErrors, all.Retries, all.PromptTokens, all.CompletionTokens, cost, session);
    }

    /// <summary>Writes report.json atomically (<see cref="Checkpointing.OutputTarget"/>: a temporary file renamed over it).</summary>
    public void Write(string folder) =>
        Checkpointing.OutputTarget.Write(Path.Combine(folder, FileName), "--output", JsonSerializer.SerializeToUtf8Bytes(this, SynthJson.Indented));

    public void Print(TextWriter output)
    {
        output.WriteLine($"rows: {Rows} of {Target}");
        Table(output, "group", RowsByGroup);
        Table(output, "language", RowsByLanguage.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToDictionary());
        output.WriteLine($"requests: {Requests} ({Brainstorms} brainstorms, {Tasks} tasks): {Kept} kept, {Dropped} dropped, {Failed} failed; {Retries} retries");
        if (Drops.Count > 0) Table(output, "dropped", Drops);
        if (HttpErrors.Count > 0) Table(output, "http error", HttpErrors);
        output.WriteLine(Invariant($"tokens: {PromptTokens} prompt, {CompletionTokens} completion"));
        output.WriteLine(Invariant(
            $"this run: {Session.Requests} requests in {Session.Seconds:0.0} s = {Session.RequestsPerSecond:0.0} requests/s; {Session.TokensPerSecond:0.0} tokens/s ({Session.CompletionTokensPerSecond:0.0} completion)"));
        if (Cost is { } cost) output.WriteLine(Invariant($"cost: {cost:0.0000}"));
    }

    private static void Table(TextWriter output, string title, IReadOnlyDictionary<string, int> counts)
    {
        int width = Math.Max(title.Length, counts.Keys.DefaultIfEmpty("").Max(k => k.Length));
        output.WriteLine($"  {title.PadRight(width)}  count");
        foreach (var (key, count) in counts) output.WriteLine($"  {key.PadRight(width)}  {count,5}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
