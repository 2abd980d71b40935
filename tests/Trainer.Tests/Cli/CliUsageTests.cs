using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Cli;

/// <summary>The command line as a user meets it: help texts, output endings, what each option accepts.</summary>
public class CliUsageTests
{
    [Fact]
    public void Tokenize_help_lists_only_the_options_tokenize_uses()
    {
        var help = CliRunner.Run("tokenize", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var used in new[] { "--model", "--input", "--output", "--max-length" }) Assert.Contains(used, help.Stdout);
        foreach (var unused in new[] { "--adapter", "--batch-size", "--device", "--dtype" }) Assert.DoesNotContain(unused, help.Stdout);
        var embed = CliRunner.Run("embed", "--help");
        foreach (var option in new[] { "--adapter", "--batch-size", "--device", "--dtype" }) Assert.Contains(option, embed.Stdout);
    }

    [Theory]
    [InlineData("synthetic")]
    [InlineData("load")]
    [InlineData("embed")]
    public void Every_benchmark_option_has_a_description(string command)
    {
        var help = CliRunner.Run("benchmark", command, "--help");
        Assert.Equal(0, help.ExitCode);
        // System.CommandLine prints "  --name <value>   description [default: x]"; an option without a description has nothing but its default.
        var options = help.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("Options:", StringComparison.Ordinal)).Skip(1)
            .Where(l => l.TrimStart().StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(options);
        foreach (var line in options)
        {
            var description = System.Text.RegularExpressions.Regex.Replace(line.Trim(), @"^--\S+( <[^>]+>)?( \(REQUIRED\))?", "").Replace("[default:", "").Trim();
            Assert.True(description.Length > 10, $"benchmark {command}: no description in '{line}'");
        }
    }

    [Fact]
    public void Benchmark_embed_output_ends_with_a_newline()
    {
        var result = CliRunner.Run("benchmark", "embed", "--model", TestPaths.TinyMistral, "--sequences", "8", "--length", "8", "--batch-size", "4");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("8 sequences x 8 tokens, batch 4", result.Stdout);
        Assert.EndsWith("tokens/s" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void Embed_adapter_takes_an_output_dir_as_its_newest_valid_checkpoint()
    {
        var outputDir = TestPaths.TempDir("embed-output-dir");
        var trained = new TrainingRun(TrainingFixture.Config(outputDir, "training.max_steps=3"), new TrainOptions(), TextWriter.Null).Run().LastCheckpoint!;
        var input = Path.Combine(TestPaths.TempDir("embed-output-dir-input"), "in.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"a claim about vaccines\"}", "{\"text\": \"an abstract\", \"instruction\": \"Find it\"}"]);
        string Embed(string name, params string[] adapter)
        {
            var output = input + "." + name;
            var result = CliRunner.Run(["embed", "--model", TestPaths.TinyMistral, "--input", input, "--output", output, .. adapter]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            if (name == "dir") Assert.Contains($"{outputDir}: using its newest valid checkpoint, {trained}", result.Stderr);
            return File.ReadAllText(output);
        }

        var fromDir = Embed("dir", "--adapter", outputDir);
        Assert.Equal(Embed("checkpoint", "--adapter", trained), fromDir);
        Assert.NotEqual(Embed("base"), fromDir); // the adapter was applied

        var empty = TestPaths.TempDir("embed-empty-dir");
        var refused = CliRunner.Run("embed", "--model", TestPaths.TinyMistral, "--input", input, "--output", input + ".none", "--adapter", empty);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"error: No valid checkpoint-<step> folder in {empty}, and no adapter_config.json.{Environment.NewLine}", refused.Stderr);
    }
}
