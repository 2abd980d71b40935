using Parquet.Serialization;
using Trainer.Data;

namespace Trainer.Tests.Data;

public class TrainingDataTests
{
    private static string WriteJsonl(string name, params string[] lines)
    {
        var path = Path.Combine(TestPaths.TempDir("data"), name);
        File.WriteAllLines(path, lines);
        return path;
    }

    public sealed class FlagRow
    {
        public string? query { get; set; }
        public List<string>? pos { get; set; }
        public List<string>? neg { get; set; }
    }

    [Fact]
    public async Task Jsonl_and_parquet_mix_with_single_and_list_columns()
    {
        var jsonl = WriteJsonl("a.jsonl",
            """{"query": "q1", "positive": "p1", "negative": "n1", "instruction": "Find"}""",
            "",
            """{"query": "q2", "positive": "p2"}""");
        var parquet = Path.Combine(TestPaths.TempDir("data"), "b.parquet");
        await ParquetSerializer.SerializeAsync(new[] { new FlagRow { query = "q3", pos = ["p3a", "p3b"], neg = ["n3a", "n3b", "n3c"] } }, parquet, cancellationToken: TestContext.Current.CancellationToken);

        var result = TrainingDataReader.Read([jsonl, parquet], defaultInstruction: "Default", skipInvalid: false);
        var rows = result.Examples;
        Assert.Equal(3, rows.Count);
        Assert.Equal(("q1", "Find", $"{jsonl}:1"), (rows[0].Query, rows[0].Instruction, rows[0].Source));
        Assert.Equal(("q2", "Default", $"{jsonl}:3"), (rows[1].Query, rows[1].Instruction, rows[1].Source));
        Assert.Empty(rows[1].Negatives);
        Assert.Equal(["p3a", "p3b"], rows[2].Positives);
        Assert.Equal(["n3a", "n3b", "n3c"], rows[2].Negatives);
        Assert.Equal($"{parquet} row 1", rows[2].Source);

        Assert.Equal(("p2", (string?)null), rows[1].Draw(42, 0, 1));
        var draws = Enumerable.Range(0, 40).Select(epoch => rows[2].Draw(42, epoch, 2)).ToList();
        Assert.Equal(draws, Enumerable.Range(0, 40).Select(epoch => rows[2].Draw(42, epoch, 2)).ToList()); // pure function of seed, epoch, row
        Assert.Equal(2, draws.Select(d => d.Positive).Distinct().Count());
        Assert.Equal(3, draws.Select(d => d.Negative).Distinct().Count());
    }

    [Fact]
    public void FlagEmbedding_jsonl_reads_as_is()
    {
        var path = WriteJsonl("flag.jsonl", """{"query": "what is a cat", "pos": ["a small feline", "a pet"], "neg": ["a dog"], "prompt": "ignored extra column"}""");
        var row = Assert.Single(TrainingDataReader.Read([path], null, skipInvalid: false).Examples);
        Assert.Equal(["a small feline", "a pet"], row.Positives);
        Assert.Equal(["a dog"], row.Negatives);
    }

    [Theory]
    [InlineData("{\"query\": \"q\", \"positive\": ", "invalid JSON")]
    [InlineData("{\"positive\": \"p\"}", "missing column \"query\"")]
    [InlineData("{\"query\": \"q\"}", "missing column \"positive\"")]
    [InlineData("{\"query\": \"\", \"positive\": \"p\"}", "column \"query\" is an empty string")]
    [InlineData("{\"query\": \"q\", \"positive\": 3}", "column \"positive\" must be a string, got a number")]
    [InlineData("{\"query\": \"q\", \"pos\": \"p\"}", "column \"pos\" must be a list of strings, got a string")]
    [InlineData("{\"query\": \"q\", \"positive\": \"p\", \"negative\": [\"n\"]}", "column \"negative\" must be a string, got a list")]
    [InlineData("[1, 2]", "expected a JSON object")]
    public void Bad_rows_name_file_and_line(string bad, string reason)
    {
        var path = WriteJsonl("bad.jsonl", """{"query": "q", "positive": "p"}""", bad);
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([path], null, skipInvalid: false));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(reason, e.Message);

        var skipped = TrainingDataReader.Read([path], null, skipInvalid: true);
        Assert.Single(skipped.Examples);
        Assert.Equal(1, skipped.Skipped);
    }

    [Fact]
    public async Task Bad_parquet_row_names_the_row()
    {
        var parquet = Path.Combine(TestPaths.TempDir("data"), "bad.parquet");
        await ParquetSerializer.SerializeAsync(new[] { new FlagRow { query = "q", pos = ["p"] }, new FlagRow { query = "", pos = ["p"] } }, parquet, cancellationToken: TestContext.Current.CancellationToken);
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([parquet], null, skipInvalid: false));
        Assert.Equal($"{parquet} row 2: column \"query\" is an empty string.", e.Message);
    }

    [Fact]
    public void Epoch_order_is_seeded_and_file_order_without_shuffle()
    {
        Assert.Equal(Enumerable.Range(0, 10), EpochOrder.For(10, 42, 3, shuffle: false));
        var a = EpochOrder.For(100, 42, 0, shuffle: true);
        Assert.Equal(a, EpochOrder.For(100, 42, 0, shuffle: true));
        Assert.NotEqual(a, EpochOrder.For(100, 42, 1, shuffle: true));
        Assert.NotEqual(a, EpochOrder.For(100, 43, 0, shuffle: true));
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
    }
}
