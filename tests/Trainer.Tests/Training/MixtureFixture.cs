using System.Text.Json;

namespace Trainer.Tests.Training;

/// <summary>
/// Two training sources for <see cref="TrainingFixture"/>, made from the first 28 SciFact rows, and the overrides that
/// train on them with <c>same_source</c> batches and 3 negatives per row.
/// <list type="bullet">
/// <item>"claims": 16 rows with a <c>neg</c> list of 3 (the row's own BM25 negative and two other rows'), except row 3
/// with 2 (so one is repeated) and row 9 with 5 (so 3 are drawn); its own instruction.</item>
/// <item>"pairs": 12 rows at weight 0.75 (9 a epoch: 2 full batches of 4, one row left over), symmetric, with
/// one negative each except its row 2, which has none.</item>
/// </list>
/// With batch 4 an epoch is 4 + 2 = 6 steps.
/// </summary>
public static class MixtureFixture
{
    private static readonly Lazy<(string Claims, string Pairs)> Files = new(Write);

    public static string[] Overrides(int negatives = 3, string batching = "same_source") =>
    [
        $"data.train=[{{path: {Files.Value.Claims}, name: claims, instruction: Find the abstract that supports the claim}}, " +
        $"{{path: {Files.Value.Pairs}, name: pairs, weight: 0.75, symmetric: true, instruction: Retrieve a matching text}}]",
        $"data.batching={batching}",
        $"data.negatives_per_query={negatives}",
    ];

    private static (string, string) Write()
    {
        var rows = File.ReadLines(Path.Combine(TestPaths.RepoRoot, "data", "scifact", "train.jsonl")).Take(28)
            .Select(l => JsonDocument.Parse(l).RootElement).Select(e => (Query: e.GetProperty("query").GetString()!, Positive: e.GetProperty("positive").GetString()!,
                Negative: e.GetProperty("negative").GetString()!)).ToList();
        var dir = TestPaths.TempDir("mixture-data");
        string claims = Path.Combine(dir, "claims.jsonl"), pairs = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(claims, Enumerable.Range(0, 16).Select(i =>
        {
            var negatives = new List<string> { rows[i].Negative, rows[(i + 5) % 16].Negative, rows[(i + 9) % 16].Negative };
            if (i == 3) negatives.RemoveAt(2);
            if (i == 9) negatives.AddRange([rows[20].Negative, rows[21].Negative]);
            return JsonSerializer.Serialize(new { query = rows[i].Query, pos = new[] { rows[i].Positive }, neg = negatives });
        }));
        File.WriteAllLines(pairs, Enumerable.Range(16, 12).Select(i => i == 18
            ? JsonSerializer.Serialize(new { query = rows[i].Query, positive = rows[i].Positive })
            : JsonSerializer.Serialize(new { query = rows[i].Query, positive = rows[i].Positive, negative = rows[i].Negative })));
        return (claims, pairs);
    }
}
