using Trainer.Tests.Export;

namespace Trainer.Tests.Cli;

/// <summary><c>trainer embed</c> says which max_length and query instruction it uses and where they came from; flags win.</summary>
public class EmbedDefaultsCliTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    [Fact]
    public void Embed_reports_the_trained_settings_and_given_flags_win()
    {
        var input = Path.Combine(TestPaths.TempDir("cli-defaults"), "in.jsonl");
        File.WriteAllLines(input, ["""{"text": "Do vaccines train the immune system to recognise a virus before an infection, and for how long?", "query": true}"""]);
        var config = Path.Combine(trained.Path, "config.yaml");

        var defaults = CliRunner.Run("embed", "--adapter", trained.Path, "--input", input, "--output", input + ".defaults");
        Assert.True(defaults.ExitCode == 0, defaults.Stderr);
        var lines = defaults.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries); // then progress lines, on a slow machine
        Assert.Equal($"embed: {TestPaths.TinyMistral} + adapter {trained.Path}; max_length 24 (from {config}), query instruction \"Find the abstract\" (from {config})", lines[0]);
        Assert.Equal($"embed: wrote 1 line(s) to {input}.defaults", lines[^1]);

        var given = CliRunner.Run("embed", "--model", trained.Path, "--max-length", "512", "--instruction", "", "--input", input, "--output", input + ".given");
        Assert.True(given.ExitCode == 0, given.Stderr);
        Assert.Contains("; max_length 512 (given), query instruction none (given)", given.Stderr);
        Assert.NotEqual(File.ReadAllText(input + ".defaults"), File.ReadAllText(input + ".given"));

        var plain = CliRunner.Run("tokenize", "--model", TestPaths.TinyMistral, "--input", input, "--output", input + ".ids");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.Contains($"tokenize: {TestPaths.TinyMistral}; max_length 512 (default), query instruction none (default)", plain.Stderr);
    }
}
