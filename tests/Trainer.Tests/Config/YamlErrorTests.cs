using Trainer.Config;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Config;

/// <summary>YAML the parser cannot read is one line with the file (or --set key), line and column.</summary>
public class YamlErrorTests
{
    [Fact]
    public void Unclosed_flow_sequence_through_train_names_file_line_and_column()
    {
        var path = Path.Combine(TestPaths.TempDir("yaml"), "run.yaml");
        File.WriteAllText(path, "output_dir: out\nmodel: {path: [unclosed\ndata: {train: [a.jsonl]}\n"); // YamlDotNet: a bare InvalidOperationException

        var result = CliRunner.Run("train", "--config", path);
        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: {path}: invalid YAML at line 2, column 15: could not parse the value that starts here; check that every '[', '{{' and quote is closed.", error);
    }

    [Theory]
    [InlineData("model=path: [unclosed\nx: 1", "--set model=path: [unclosed\\nx: 1: invalid YAML value at line 1, column 7: could not parse")]
    [InlineData("data.train=[a.jsonl", "--set data.train=[a.jsonl: invalid YAML value at line 2, column 1: While parsing a flow sequence")]
    public void Unreadable_set_value_names_the_key_and_column(string set, string expected)
    {
        var path = Path.Combine(TestPaths.TempDir("yaml"), "run.yaml");
        File.WriteAllText(path, "model: {path: m}\ndata: {train: [a.jsonl]}\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, [set]));
        Assert.StartsWith(expected, e.Message);
        Assert.EndsWith("Quote it to pass a string.", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
