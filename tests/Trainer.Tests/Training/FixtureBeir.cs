using System.Text.Json;

namespace Trainer.Tests.Training;

/// <summary>
/// A BEIR folder made from <see cref="TrainingFixture"/>'s rows: query i is row i's query, relevant to document p{i}
/// (its positive); each negative is a document n{i} judged by nobody. Split "dev".
/// </summary>
public static class FixtureBeir
{
    public static string Folder { get; } = Write();

    private static string Write()
    {
        var dir = TestPaths.TempDir("fixture-beir");
        Directory.CreateDirectory(Path.Combine(dir, "qrels"));
        var rows = File.ReadAllLines(TrainingFixture.DataFile).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var corpus = new List<string>();
        var queries = new List<string>();
        var qrels = new List<string> { "query-id\tcorpus-id\tscore" };
        for (int i = 0; i < rows.Count; i++)
        {
            corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"p{i}", ["text"] = rows[i].GetProperty("positive").GetString()! }));
            if (rows[i].TryGetProperty("negative", out var negative))
                corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"n{i}", ["text"] = negative.GetString()! }));
            queries.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"q{i}", ["text"] = rows[i].GetProperty("query").GetString()! }));
            qrels.Add($"q{i}\tp{i}\t1");
        }
        File.WriteAllLines(Path.Combine(dir, "corpus.jsonl"), corpus);
        File.WriteAllLines(Path.Combine(dir, "queries.jsonl"), queries);
        File.WriteAllLines(Path.Combine(dir, "qrels", "dev.tsv"), qrels);
        return dir;
    }
}
