using System.Text;
using System.Text.Json;
using Trainer.Evaluation;

namespace Trainer.Tests.Evaluation;

public class BeirDatasetTests
{
    private static string SciFact => Path.Combine(TestPaths.RepoRoot, "data", "scifact");

    [Fact]
    public void Reads_the_shipped_SciFact_test_split()
    {
        var data = BeirDataset.Load(SciFact, "test");
        Assert.Equal(5183, data.Corpus.Count);
        Assert.Equal(300, data.Queries.Count);
        Assert.Equal(300, data.Qrels.Count);
        Assert.Equal(339, data.Qrels.Values.Sum(docs => docs.Count));
        Assert.All(data.Qrels.Values.SelectMany(docs => docs.Values), grade => Assert.Equal(1, grade));
        // queries.jsonl holds 1,109 claims; those without test qrels are skipped, the rest keep the file's order
        Assert.Equal(data.Queries.Select(q => q.Id), data.Qrels.Keys);
        Assert.Equal("1", data.Queries[0].Id);
        Assert.Equal("0-dimensional biomaterials show inductive properties.", data.Queries[0].Text);
        Assert.Equal(new Dictionary<string, int> { ["31715818"] = 1 }, data.Qrels["1"]);
        Assert.Equal("4983", data.Corpus[0].Id);
        Assert.StartsWith("Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor magnetic resonance imaging. Alterations of",
            data.Corpus[0].Text);
    }

    /// <summary>
    /// data/scifact/train.jsonl was written by scripts/beir_to_jsonl.py from these files: one row per (query, relevant
    /// document) of the train qrels, queries by numeric id, documents in qrels order. Rebuilding every row from the
    /// BEIR reader gives the same query and the same positive text, byte for byte (382 rows take the title's own
    /// '.', '?' or '!'; 6 rows need Python's strip of the title or text).
    /// </summary>
    [Fact]
    public void Documents_are_built_exactly_as_the_training_script_builds_positives()
    {
        var data = BeirDataset.Load(SciFact, "train");
        Assert.Equal(809, data.Queries.Count);
        var queries = data.Queries.ToDictionary(q => q.Id, q => q.Text);
        var documents = data.Corpus.ToDictionary(d => d.Id, d => d.Text);
        var expected = data.Qrels.Keys.OrderBy(long.Parse)
            .SelectMany(q => data.Qrels[q].Where(j => j.Value > 0).Select(j => (Query: queries[q], Positive: documents[j.Key])))
            .ToList();
        var rows = File.ReadLines(Path.Combine(SciFact, "train.jsonl")).Select(line =>
        {
            using var row = JsonDocument.Parse(line);
            return (Query: row.RootElement.GetProperty("query").GetString()!, Positive: row.RootElement.GetProperty("positive").GetString()!);
        }).ToList();
        Assert.Equal(919, rows.Count);
        Assert.Equal(expected, rows);
    }

    [Theory]
    [InlineData("Title", "Text.", "Title. Text.")]
    [InlineData("Why?", "Because.", "Why? Because.")]
    [InlineData("Stop!", "x", "Stop! x")]
    [InlineData("Done.", "x", "Done. x")]
    [InlineData("", "Only text.", "Only text.")]
    [InlineData(null, null, "")]
    [InlineData("  \u001C Title \u3000", "\u001F text \u00A0\n", "Title. text")] // Python's strip also removes U+001C..U+001F
    [InlineData("T", "", "T. ")]
    [InlineData("   ", " body ", "body")]
    public void Document_text_joins_title_and_text_like_the_script(string? title, string? text, string expected) =>
        Assert.Equal(expected, BeirDataset.DocumentText(title, text));

    [Fact]
    public void Queries_without_qrels_are_skipped_and_unknown_documents_still_count()
    {
        var folder = Write(
            corpus: ["""{"_id": "d1", "title": "A", "text": "a"}""", "", """{"_id": "d2", "text": "b"}"""],
            queries: ["""{"_id": "q1", "text": "one"}""", """{"_id": "q2", "text": "two"}""", """{"_id": "q3", "text": "three", "metadata": {}}"""],
            qrels: ["query-id\tcorpus-id\tscore", "q3\td2\t2", "q1\td1\t0", "q1\tmissing\t1", "q3\td1\t-1"]);
        var data = BeirDataset.Load(folder, "test");
        Assert.Equal(["d1", "d2"], data.Corpus.Select(d => d.Id));
        Assert.Equal(["A. a", "b"], data.Corpus.Select(d => d.Text));
        Assert.Equal(["q1", "q3"], data.Queries.Select(q => q.Id));
        Assert.Equal(["q1", "q3"], data.Qrels.Keys);
        Assert.Equal(new Dictionary<string, int> { ["d1"] = 0, ["missing"] = 1 }, data.Qrels["q1"]);
        Assert.Equal(new Dictionary<string, int> { ["d2"] = 2, ["d1"] = -1 }, data.Qrels["q3"]);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "corpus.jsonl", "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": \"d2\", \"text\": ", "corpus.jsonl:2: invalid JSON" },
        { "corpus.jsonl", "{\"_id\": \"d1\"}\n[1, 2]", "corpus.jsonl:2: expected a JSON object." },
        { "corpus.jsonl", "{\"text\": \"a\"}", "corpus.jsonl:1: missing key \"_id\"." },
        { "corpus.jsonl", "{\"_id\": 7, \"text\": \"a\"}", "corpus.jsonl:1: \"_id\" must be a string, got number." },
        { "corpus.jsonl", "{\"_id\": \"d 1\", \"text\": \"a\"}", "corpus.jsonl:1: \"_id\" \"d 1\" contains white space" },
        { "corpus.jsonl", "{\"_id\": \"d1\"}\n\n{\"_id\": \"d1\"}", "corpus.jsonl:3: document id \"d1\" appears twice" },
        { "corpus.jsonl", "{\"_id\": \"d1\", \"title\": null}", "corpus.jsonl:1: \"title\" must be a string, got null." },
        { "corpus.jsonl", "{\"_id\": \"d1\", \"text\": \"a\", \"text\": \"b\"}", "corpus.jsonl:1: duplicate key \"text\"; each key may appear once per line." },
        { "queries.jsonl", "{\"_id\": \"q1\"}", "queries.jsonl:1: missing key \"text\"." },
        { "queries.jsonl", "{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q1\", \"text\": \"b\"}", "queries.jsonl:2: query id \"q1\" appears twice" },
        { "qrels/test.tsv", "q1\td1\t1\n", "test.tsv:1: expected the header line \"query-id<TAB>corpus-id<TAB>score\", found \"q1\td1\t1\"." },
        { "qrels/test.tsv", "", "test.tsv: empty file; expected the header line" },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\n", "test.tsv: no judgments after the header line." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n", "test.tsv:2: expected 3 tab-separated fields (query-id, corpus-id, score), found 2." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1 d1 1\n", "test.tsv:2: expected 3 tab-separated fields (query-id, corpus-id, score), found 1." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t0.5\n", "test.tsv:2: score \"0.5\" is not an integer relevance grade." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\t\t1\n", "test.tsv:2: empty query-id or corpus-id." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq9\td1\t1\n", "test.tsv:2: query id \"q9\" is not in queries.jsonl." },
        { "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\r\n\r\nq1\td1\t2\r\n", "test.tsv:4: query \"q1\" and document \"d1\" were already judged on line 2." },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_stops_with_file_line_and_reason(string file, string content, string expected)
    {
        var folder = Write(corpus: ["""{"_id": "d1", "text": "a"}"""], queries: ["""{"_id": "q1", "text": "one"}"""], qrels: ["query-id\tcorpus-id\tscore", "q1\td1\t1"]);
        File.WriteAllText(Path.Combine(folder, file), content);
        var e = Assert.Throws<InvalidDataException>(() => BeirDataset.Load(folder, "test"));
        Assert.StartsWith(Path.Combine(folder, file.Split('/')[0]), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Invalid_utf8_names_the_line_and_byte()
    {
        var folder = Write(corpus: ["""{"_id": "d1", "text": "a"}"""], queries: ["""{"_id": "q1", "text": "one"}"""], qrels: ["query-id\tcorpus-id\tscore", "q1\td1\t1"]);
        var path = Path.Combine(folder, "queries.jsonl");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{\"_id\": \"q1\", \"text\": \"one\"}\n{\"_id\": \"q2\", \"text\": \"t"), 0xC3, 0x28, .. "\"}\n"u8]);
        var e = Assert.Throws<InvalidDataException>(() => BeirDataset.Load(folder, "test"));
        Assert.Equal($"{path}:2: invalid UTF-8 at byte 25 of the line; the file must be UTF-8 encoded.", e.Message);
    }

    [Fact]
    public void A_missing_split_names_the_splits_there_are()
    {
        var e = Assert.Throws<FileNotFoundException>(() => BeirDataset.Load(SciFact, "dev"));
        Assert.Equal($"{Path.Combine(SciFact, "qrels", "dev.tsv")} not found; the splits in {Path.Combine(SciFact, "qrels")} are: test, train.", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => BeirDataset.Load(Path.Combine(SciFact, "nothing-here"), "test"));
        var folder = Write(corpus: ["""{"_id": "d1"}"""], queries: ["""{"_id": "q1", "text": "one"}"""], qrels: ["query-id\tcorpus-id\tscore", "q1\td1\t1"]);
        File.Delete(Path.Combine(folder, "corpus.jsonl"));
        Assert.Contains("corpus.jsonl", Assert.Throws<FileNotFoundException>(() => BeirDataset.Load(folder, "test")).Message);
    }

    /// <summary>A BEIR folder with the given lines (qrels as the "test" split).</summary>
    internal static string Write(IEnumerable<string> corpus, IEnumerable<string> queries, IEnumerable<string> qrels)
    {
        var folder = TestPaths.TempDir("beir");
        Directory.CreateDirectory(Path.Combine(folder, "qrels"));
        File.WriteAllLines(Path.Combine(folder, "corpus.jsonl"), corpus);
        File.WriteAllLines(Path.Combine(folder, "queries.jsonl"), queries);
        File.WriteAllLines(Path.Combine(folder, "qrels", "test.tsv"), qrels);
        return folder;
    }
}
