using System.Text.Json;
using Trainer.Evaluation;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// A hand-made mining set: a BEIR corpus of 30 documents plus a document whose text is d3's once title and text are
/// stripped (an exact-text duplicate) and an empty one, and five training rows: rows 0 and 1 share a query and
/// instruction (positives d3 and d5), row 2 has two positives and an old negative, row 3's query is d10's text, row 4
/// is plain. <see cref="Ranking"/> ranks texts for a query independently of the miner: each text embedded alone,
/// cosine in double precision, sorted.
/// </summary>
public static class MiningFixture
{
    private static readonly string[] Words =
        ["cell", "protein", "virus", "brain", "heart", "gene", "tumour", "vaccine", "blood", "bone", "lung", "liver",
         "sleep", "diet", "insulin", "immune", "neuron", "muscle", "kidney", "skin"];

    public const string Instruction = "Given a claim, find the abstract";

    public static (string Title, string Text) Document(int i) =>
        ($"Study {i} of {Words[i % Words.Length]}", $"The {Words[(3 * i + 1) % Words.Length]} responds to {Words[(7 * i + 2) % Words.Length]} in {i + 2} trials.");

    public static string DocumentText(int i) => BeirDataset.DocumentText(Document(i).Title, Document(i).Text);

    public const string OldNegative = "An old negative about nothing in particular.";

    /// <summary>The rows: query, positives, negatives, own instruction.</summary>
    public static readonly (string Query, string[] Positives, string[] Negatives, string? Instruction)[] Rows =
    [
        ("The heart responds to insulin.", [DocumentText(3)], [], Instruction),
        ("The heart responds to insulin.", [DocumentText(5)], [], Instruction),
        ("Vaccines change the immune response of the lung.", [DocumentText(7), DocumentText(8)], [OldNegative], null),
        (DocumentText(10), [DocumentText(11)], [], null),
        ("Sleep and diet shape the liver.", [DocumentText(12)], [], "Find evidence"),
    ];

    /// <summary>Writes <c>corpus.jsonl</c> and <c>train.jsonl</c> into a new folder.</summary>
    public static (string Folder, string Corpus, string Train) Write()
    {
        var folder = TestPaths.TempDir("mine");
        var corpus = Path.Combine(folder, "corpus.jsonl");
        var documents = Enumerable.Range(0, 30).Select(i => new { _id = $"d{i}", title = Document(i).Title, text = Document(i).Text })
            .Append(new { _id = "d3-copy", title = "  " + Document(3).Title + " ", text = Document(3).Text + "\n" })
            .Append(new { _id = "empty", title = "", text = "  " });
        File.WriteAllLines(corpus, documents.Select(d => JsonSerializer.Serialize(d)));
        var train = Path.Combine(folder, "train.jsonl");
        File.WriteAllLines(train, Rows.Select(r =>
        {
            var row = new Dictionary<string, object> { ["query"] = r.Query, ["pos"] = r.Positives };
            if (r.Negatives.Length > 0) row["neg"] = r.Negatives;
            if (r.Instruction is { } instruction) row["instruction"] = instruction;
            return JsonSerializer.Serialize(row);
        }));
        return (folder, corpus, train);
    }

    /// <summary>The 30 distinct non-empty corpus texts (d3-copy is d3's text, the empty document is left out).</summary>
    public static List<string> CorpusTexts() => Enumerable.Range(0, 30).Select(DocumentText).ToList();

    /// <summary>What the miner must never return for row <paramref name="row"/>: the positives of every row with its query and instruction, and the query.</summary>
    public static HashSet<string> Excluded(int row, string? defaultInstruction = null)
    {
        string Key(int r) => Rows[r].Query + "\n" + (Rows[r].Instruction ?? defaultInstruction ?? "");
        var excluded = Enumerable.Range(0, Rows.Length).Where(r => Key(r) == Key(row)).SelectMany(r => Rows[r].Positives).ToHashSet();
        excluded.Add(Rows[row].Query);
        return excluded;
    }

    /// <summary><paramref name="texts"/> in descending cosine similarity to the query, each text embedded on its own.</summary>
    public static List<string> Ranking(string query, string? instruction, IReadOnlyList<string> texts, int maxLength)
    {
        var scores = Scores(query, instruction, texts, maxLength);
        return Enumerable.Range(0, texts.Count).OrderByDescending(i => scores[i]).Select(i => texts[i]).ToList();
    }

    /// <summary>The cosine similarity of the query to each text, in double precision, each text embedded on its own.</summary>
    public static double[] Scores(string query, string? instruction, IReadOnlyList<string> texts, int maxLength)
    {
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var embedder = new TextEmbedder(model, batchSize: 1);
        var q = embedder.Embed([tokenizer.Encode(query, instruction, maxLength)])[0];
        var docs = embedder.Embed(texts.Select(t => tokenizer.Encode(t, null, maxLength)).ToList());
        double Cosine(float[] a, float[] b)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++) (dot, na, nb) = (dot + (double)a[i] * b[i], na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
            return dot / Math.Sqrt(na * nb);
        }
        return docs.Select(d => Cosine(q, d)).ToArray();
    }

    /// <summary>The output's lines as (query, pos, neg, instruction or null).</summary>
    public static List<(string Query, List<string> Pos, List<string> Neg, string? Instruction)> ReadOutput(string path) =>
        File.ReadAllLines(path).Select(line =>
        {
            var e = JsonDocument.Parse(line).RootElement;
            List<string> Strings(string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetString()!).ToList();
            return (e.GetProperty("query").GetString()!, Strings("pos"), Strings("neg"),
                e.TryGetProperty("instruction", out var i) ? i.GetString() : null);
        }).ToList();
}
