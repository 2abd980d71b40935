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

    [Theory]
    [InlineData("--range", "10-5", "error: --range 10-5 is invalid; give START-END with 0 <= START < END, e.g. 10-100 (1-based ranks START+1 to END).")]
    [InlineData("--negatives", "0", "error: --negatives = 0 is invalid; it must be at least 1.")]
    [InlineData("--corpus", "missing.jsonl", "error: BEIR file not found: missing.jsonl")]
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
