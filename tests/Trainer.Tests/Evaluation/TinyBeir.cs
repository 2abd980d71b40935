using System.Text.Json;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// A small BEIR folder in plain English for running real models on: 10 documents of different lengths (some with a
/// title), 4 queries of which 3 have qrels in <c>test</c> (one graded 2, one judged not relevant) and 1 in <c>dev</c>.
/// </summary>
public static class TinyBeir
{
    public static readonly (string Id, string Title, string Text)[] Documents =
    [
        ("d01", "Vaccines", "Vaccines train the immune system to recognise a virus before an infection."),
        ("d02", "", "The cat sat on the mat."),
        ("d03", "Photosynthesis", "Plants turn light, water and carbon dioxide into sugar and oxygen in their leaves, mostly in the chloroplasts."),
        ("d04", "", "Rivers carry sediment to the sea, where it settles and builds deltas over thousands of years."),
        ("d05", "Immune memory.", "After an infection, memory cells let the body answer the same virus faster."),
        ("d06", "", "Bread rises because yeast makes gas."),
        ("d07", "Stars", "A star shines by fusing hydrogen into helium in its core, releasing energy as light and heat for billions of years."),
        ("d08", "", "Antibiotics kill bacteria but do nothing against viruses."),
        ("d09", "Tides", "The moon's gravity pulls on the oceans and makes the tides."),
        ("d10", "", "Ok."),
    ];

    public static readonly (string Id, string Text)[] Queries =
    [
        ("q1", "how do vaccines protect against viruses?"),
        ("q2", "why does bread rise?"),
        ("q3", "what causes tides"),
        ("q4", "how do stars make light"),
    ];

    public static readonly string[] TestQrels =
    [
        "query-id\tcorpus-id\tscore",
        "q1\td01\t2", "q1\td05\t1", "q1\td08\t0",
        "q2\td06\t1",
        "q3\td09\t1", "q3\td04\t0",
    ];

    public static string Write()
    {
        var folder = TestPaths.TempDir("tiny-beir");
        Directory.CreateDirectory(Path.Combine(folder, "qrels"));
        File.WriteAllLines(Path.Combine(folder, "corpus.jsonl"),
            Documents.Select(d => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = d.Id, ["title"] = d.Title, ["text"] = d.Text })));
        File.WriteAllLines(Path.Combine(folder, "queries.jsonl"),
            Queries.Select(q => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = q.Id, ["text"] = q.Text })));
        File.WriteAllLines(Path.Combine(folder, "qrels", "test.tsv"), TestQrels);
        File.WriteAllLines(Path.Combine(folder, "qrels", "dev.tsv"), ["query-id\tcorpus-id\tscore", "q4\td07\t1"]);
        return folder;
    }
}
