using System.Text;
using Parquet.Serialization;
using Trainer.Data;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Data;

/// <summary>Damaged or doubtful training data: each problem is one line naming the file and row, never a stack trace.</summary>
public class DataGuardTests
{
    private static string Folder() => TestPaths.TempDir("data-guard");

    private static string WriteJsonl(params string[] lines)
    {
        var path = Path.Combine(Folder(), "rows.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static async Task<byte[]> ValidParquet()
    {
        var path = Path.Combine(Folder(), "valid.parquet");
        var rows = Enumerable.Range(0, 50).Select(i => new TrainingDataTests.FlagRow { query = $"query {i}", pos = [$"positive {i}"], neg = [$"negative {i}"] });
        await ParquetSerializer.SerializeAsync(rows, path);
        return File.ReadAllBytes(path);
    }

    /// <summary>Damage that Parquet.Net reports as a Thrift error, an index error, or a bad magic number.</summary>
    public static TheoryData<string> Damages() => ["truncated", "footer-garbled", "footer-length", "pages-garbled"];

    private static byte[] Damage(byte[] bytes, string damage)
    {
        var copy = (byte[])bytes.Clone();
        int footerLength = BitConverter.ToInt32(copy, copy.Length - 8), footerStart = copy.Length - 8 - footerLength;
        var random = new Random(7);
        switch (damage)
        {
            case "truncated": return copy[..(copy.Length / 2)];
            case "footer-garbled": for (int i = footerStart + 4; i < footerStart + footerLength - 4; i += 3) copy[i] = (byte)random.Next(256); break;
            case "footer-length": BitConverter.GetBytes(footerLength / 3).CopyTo(copy, copy.Length - 8); break;
            case "pages-garbled": for (int i = 4; i < footerStart; i += 2) copy[i] = (byte)random.Next(256); break;
        }
        return copy;
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Damaged_parquet_is_an_invalid_data_error_naming_the_file(string damage)
    {
        var path = Path.Combine(Folder(), $"{damage}.parquet");
        File.WriteAllBytes(path, Damage(await ValidParquet(), damage));
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([path], null, skipInvalid: true));
        Assert.StartsWith($"{path}: not a readable Parquet file (", e.Message);
    }

    [Fact]
    public async Task Damaged_parquet_through_train_is_one_line_and_exit_1()
    {
        var folder = Folder();
        var parquet = Path.Combine(folder, "train.parquet");
        File.WriteAllBytes(parquet, Damage(await ValidParquet(), "footer-garbled"));
        var config = Path.Combine(folder, "train.yaml");
        File.WriteAllText(config, $"output_dir: {Path.Combine(folder, "out")}\nmodel: {{path: {TestPaths.TinyMistral}, max_length: 16}}\ndata: {{train: [{parquet}]}}\n");

        var result = CliRunner.Run("train", "--config", config);
        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {parquet}: not a readable Parquet file (", error);
    }

    [Fact]
    public void A_repeated_key_names_the_line_and_key_and_skip_invalid_skips_it()
    {
        var path = WriteJsonl("""{"query": "q1", "positive": "p1"}""", """{"query": "q2", "positive": "p2", "query": "again"}""", """{"query": "q3", "positive": "p3"}""");
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([path], null, skipInvalid: false));
        Assert.Equal($"{path}:2: duplicate key \"query\"; each key may appear once per line.", e.Message);

        var skipped = TrainingDataReader.Read([path], null, skipInvalid: true);
        Assert.Equal(["q1", "q3"], skipped.Examples.Select(x => x.Query));
        Assert.Equal(1, skipped.Skipped);
        Assert.Equal([e.Message], skipped.SkipReasons);
    }

    [Theory]
    [InlineData("{\"query\": \"  \", \"positive\": \"p\"}", "column \"query\" is whitespace only.")]
    [InlineData("{\"query\": \"q\", \"positive\": \"\\t\\n\"}", "column \"positive\" is whitespace only.")]
    [InlineData("{\"query\": \"q\", \"positive\": \"p\", \"negative\": \"\\u00a0\"}", "column \"negative\" is whitespace only.")]
    [InlineData("{\"query\": \"q\", \"positive\": \"p\", \"instruction\": \"   \"}", "column \"instruction\" is whitespace only.")]
    [InlineData("{\"query\": \"q\", \"pos\": [\"p\", \" \"]}", "column \"pos\" holds a whitespace-only string.")]
    public void Whitespace_only_strings_are_rejected_with_file_and_line(string row, string reason)
    {
        var path = WriteJsonl("""{"query": "q", "positive": "p"}""", row);
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([path], null, skipInvalid: false));
        Assert.Equal($"{path}:2: {reason}", e.Message);
        Assert.Single(TrainingDataReader.Read([path], null, skipInvalid: true).Examples);
    }

    [Fact]
    public async Task Whitespace_only_parquet_string_names_the_row()
    {
        var parquet = Path.Combine(Folder(), "spaces.parquet");
        await ParquetSerializer.SerializeAsync(new[] { new TrainingDataTests.FlagRow { query = "q", pos = ["p", "\t "] } }, parquet, cancellationToken: TestContext.Current.CancellationToken);
        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([parquet], null, skipInvalid: false));
        Assert.Equal($"{parquet} row 1: column \"pos\" holds a whitespace-only string.", e.Message);
    }

    [Fact]
    public void Invalid_utf8_names_file_line_and_byte_and_skip_invalid_skips_it()
    {
        var path = Path.Combine(Folder(), "latin1.jsonl");
        var lines = new List<byte[]>
        {
            "\uFEFF{\"query\": \"caf\u00e9 \U0001F600\", \"positive\": \"p1\"}\r\n"u8.ToArray(),     // BOM, CRLF, multi-byte: fine
            Encoding.Latin1.GetBytes("{\"query\": \"caf\u00e9\", \"positive\": \"p2\"}\n"),                 // Latin-1 é
            "{\"query\": \"q3\", \"positive\": \"p3\"}"u8.ToArray(),                                       // no final newline
        };
        File.WriteAllBytes(path, lines.SelectMany(l => l).ToArray());

        var e = Assert.Throws<InvalidDataException>(() => TrainingDataReader.Read([path], null, skipInvalid: false));
        Assert.Equal($"{path}:2: invalid UTF-8 at byte 15 of the line; the file must be UTF-8 encoded.", e.Message);

        var skipped = TrainingDataReader.Read([path], null, skipInvalid: true);
        Assert.Equal(["caf\u00e9 \U0001F600", "q3"], skipped.Examples.Select(x => x.Query));
        Assert.Equal([$"{path}:1", $"{path}:3"], skipped.Examples.Select(x => x.Source));
        Assert.Equal(1, skipped.Skipped);
    }

    [Fact]
    public void Lines_longer_than_the_read_buffer_keep_their_numbers()
    {
        string longText = new('x', 200_000);
        var path = WriteJsonl($$"""{"query": "{{longText}}", "positive": "p"}""", "", """{"query": "q", "positive": "p"}""");
        var rows = TrainingDataReader.Read([path], null, skipInvalid: false).Examples;
        Assert.Equal(longText, rows[0].Query);
        Assert.Equal($"{path}:3", rows[1].Source);
        Assert.Equal(Encoding.UTF8.GetByteCount(File.ReadAllText(path)), new FileInfo(path).Length);
    }
}
