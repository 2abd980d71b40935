using Trainer.Data;
using Trainer.Tests.Evaluation;

namespace Trainer.Tests.Cli;

public class MineCommandTests
{
    private static CliRunner.Result Mine(string train, string output, params string[] extra) =>
        CliRunner.Run(["mine", "--model", TestPaths.TinyMistral, "--input", train, "--max-length", "32", "--output", output, .. extra]);

    [Fact]
    public void Mine_writes_one_line_per_input_row_that_the_training_reader_reads()
    {
        var (folder, corpus, train) = MiningFixture.Write();
        var output = Path.Combine(folder, "out", "mined.jsonl");
        var result = Mine(train, output, "--adapter", Path.Combine(TestPaths.TinyMistral, "lora-adapter"), "--corpus", corpus,
            "--range", "2-10", "--negatives", "3", "--batch-size", "5");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.Contains("mine: 5 rows, 4 distinct queries, 30 documents; sampling 3 negative(s) per row from ranks 3-10", result.Stderr);
        Assert.Contains("mine: documents 30/30 (100.0%)", result.Stderr);
        Assert.EndsWith($"mine: wrote 5 row(s) to {output}\n", result.Stderr);
        Assert.Equal(MiningFixture.Rows.Length, File.ReadAllLines(output).Length);
        Assert.Equal(["mined.jsonl"], Directory.GetFiles(Path.GetDirectoryName(output)!).Select(Path.GetFileName));
        var examples = TrainingDataReader.Read([output], defaultInstruction: null, skipInvalid: false).Examples;
        for (int r = 0; r < examples.Count; r++)
        {
            Assert.Equal(MiningFixture.Rows[r].Query, examples[r].Query);
            Assert.Equal(3, examples[r].Negatives.Distinct().Count());
            Assert.DoesNotContain(examples[r].Negatives, MiningFixture.Excluded(r).Contains);
        }
    }

    /// <summary>Issue #26: a positive not in the corpus is named on stderr (file:line and its start); the guards are applied and logged.</summary>
    [Fact]
    public void A_positive_missing_from_the_corpus_is_named_on_stderr_and_the_guards_are_logged()
    {
        var (folder, corpus, _) = MiningFixture.Write();
        var train = Path.Combine(folder, "train.jsonl");
        File.WriteAllLines(train,
        [
            System.Text.Json.JsonSerializer.Serialize(new { query = "q one", pos = new[] { MiningFixture.DocumentText(4) } }),
            System.Text.Json.JsonSerializer.Serialize(new { query = "q two", pos = new[] { "Not a document of the corpus." } }),
        ]);
        var output = Path.Combine(folder, "mined.jsonl");
        var result = Mine(train, output, "--corpus", corpus, "--range", "0-5", "--negatives", "2", "--absolute-margin", "0.01", "--max-score", "0.99");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"mine: warning: 1 positive(s) are not in {corpus}, so nothing is excluded as theirs and a near copy may be mined as a negative; " +
                        $"first 1: {train}:2: \"Not a document of the corpus.\". ", result.Stderr);
        Assert.Contains("mine: skipping candidates with score > positive - 0.01, score > 0.99 (positive: the query's lowest-scoring positive)", result.Stderr);
        Assert.Contains("mine: positives 2/2 (100.0%)", result.Stderr);
        Assert.Equal(2, File.ReadAllLines(output).Length);
    }

    [Theory]
    [InlineData("--range", "10-5", "error: --range 10-5 is invalid; give START-END with 0 <= START < END, e.g. 10-100 (1-based ranks START+1 to END).")]
    [InlineData("--negatives", "0", "error: --negatives = 0 is invalid; it must be at least 1.")]
    [InlineData("--corpus", "missing.jsonl", "error: BEIR file not found: missing.jsonl")]
    [InlineData("--absolute-margin", "3", "error: --absolute-margin = 3 is invalid; give a cosine margin from 0 to 2, e.g. 0.05 (skip candidates scoring above the positive's score minus 0.05).")]
    [InlineData("--relative-margin", "1.5", "error: --relative-margin = 1.5 is invalid; give a fraction from 0 to 1, e.g. 0.05 (skip candidates scoring above 95% of the positive's score).")]
    [InlineData("--max-score", "-1.5", "error: --max-score = -1.5 is invalid; give a cosine from -1 to 1, e.g. 0.9 (skip candidates scoring above 0.9).")]
    public void Bad_options_stop_with_one_line_and_no_output(string option, string value, string message)
    {
        var (folder, _, train) = MiningFixture.Write();
        var output = Path.Combine(folder, "mined.jsonl");
        var result = Mine(train, output, option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(message, result.Stderr.TrimEnd('\n'));
        Assert.False(File.Exists(output));
    }
}
