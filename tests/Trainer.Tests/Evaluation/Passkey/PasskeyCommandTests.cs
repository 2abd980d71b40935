using System.Globalization;
using System.Text.Json;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Evaluation.Passkey;

/// <summary><c>trainer eval --passkey</c> run as a separate process with the tiny Mistral.</summary>
public class PasskeyCommandTests
{
    [Fact]
    public void Passkey_prints_one_row_per_length_one_column_per_rope_base_and_the_same_json_twice()
    {
        var folder = TestPaths.TempDir("passkey-cli");
        string first = Path.Combine(folder, "out", "passkey.json"), second = Path.Combine(folder, "again.json");
        string[] args = ["eval", "--passkey", "--model", TestPaths.TinyMistral, "--lengths", "128,64", "--candidates", "6", "--rope-theta", "1e5", "--batch-size", "4"];

        var result = CliRunner.Run([.. args, "--output", first]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var table = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, table.Length);
        Assert.Matches(@"^length\s+key_at\s+top1@θ=10000\s+top1@θ=100000$", table[0].Trim());
        Assert.Matches(@"^64\s+\d+\s+[01]\.\d{4}\s+[01]\.\d{4}$", table[1].Trim());
        Assert.Matches(@"^128\s+\d+\s+[01]\.\d{4}\s+[01]\.\d{4}$", table[2].Trim());
        Assert.Contains("6 candidates per length, seed 42", result.Stderr);
        Assert.Contains("rope_theta 100000, length 128: top-1", result.Stderr);

        using var json = JsonDocument.Parse(File.ReadAllText(first));
        var root = json.RootElement;
        Assert.Equal("passkey", root.GetProperty("task").GetString());
        Assert.Equal(42, root.GetProperty("seed").GetInt32());
        Assert.Equal(6, root.GetProperty("candidates").GetInt32());
        Assert.Equal(4096, root.GetProperty("max_position_embeddings").GetInt32());
        Assert.StartsWith("Given a person's name", root.GetProperty("instruction").GetString());
        Assert.Contains("\"Given a person's name", File.ReadAllText(first)); // written as it reads, not \u0027
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([10000.0, 100000.0], runs.Select(r => r.GetProperty("rope_theta").GetDouble()));
        Assert.Equal([false, true], runs.Select(r => r.GetProperty("rope_theta_given").GetBoolean()));
        for (int r = 0; r < 2; r++)
        {
            var lengths = runs[r].GetProperty("lengths").EnumerateArray().ToList();
            Assert.Equal([64, 128], lengths.Select(l => l.GetProperty("length").GetInt32()));
            for (int i = 0; i < 2; i++)
            {
                int hits = lengths[i].GetProperty("hits").GetInt32();
                Assert.InRange(hits, 0, 6);
                Assert.InRange(lengths[i].GetProperty("distinct_winners").GetInt32(), hits, 6); // each hit is its own document
                Assert.Equal(hits / 6.0, lengths[i].GetProperty("top1").GetDouble(), 12);
                Assert.Equal(lengths[i].GetProperty("key_position").GetInt32() / (double)lengths[i].GetProperty("length").GetInt32(), lengths[i].GetProperty("depth").GetDouble(), 12);
                var cells = table[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(lengths[i].GetProperty("key_position").GetInt32().ToString(CultureInfo.InvariantCulture), cells[1]);
                Assert.Equal((hits / 6.0).ToString("F4", CultureInfo.InvariantCulture), cells[2 + r]);
            }
        }

        // seeded: a second run gives the same numbers
        var again = CliRunner.Run([.. args, "--output", second]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(result.Stdout, again.Stdout);
        using var json2 = JsonDocument.Parse(File.ReadAllText(second));
        Assert.Equal(Measures(root), Measures(json2.RootElement));
    }

    [Theory]
    [InlineData(new[] { "--data", "x" }, "--data does not apply to --passkey")]
    [InlineData(new[] { "--max-length", "64" }, "--max-length does not apply to --passkey")]
    [InlineData(new[] { "--top-k", "3" }, "--top-k does not apply to --passkey")]
    [InlineData(new[] { "--lengths", "64,x" }, "--lengths 64,x: \"x\" is not a whole number of tokens")]
    [InlineData(new[] { "--lengths", "64,64" }, "names a length twice")]
    [InlineData(new[] { "--lengths", "8" }, "--lengths 8 is too short")]
    [InlineData(new[] { "--candidates", "1" }, "--candidates 1 is out of range")]
    [InlineData(new[] { "--rope-theta", "-5" }, "--rope-theta -5 is invalid")]
    public void Bad_passkey_arguments_are_refused_by_name(string[] extra, string message)
    {
        string[] args = ["eval", "--passkey", "--model", TestPaths.TinyMistral];
        if (!extra.Contains("--lengths")) args = [.. args, "--lengths", "64"];
        var result = CliRunner.Run([.. args, .. extra]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void Passkey_options_without_passkey_and_eval_without_data_are_refused()
    {
        var lengths = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--lengths", "64", "--data", "x");
        Assert.Equal(1, lengths.ExitCode);
        Assert.Contains("--lengths applies to --passkey only", lengths.Stderr);
        var noData = CliRunner.Run("eval", "--model", TestPaths.TinyMistral);
        Assert.Equal(1, noData.ExitCode);
        Assert.Contains("--data is required", noData.Stderr);
        var noLengths = CliRunner.Run("eval", "--passkey", "--model", TestPaths.TinyMistral);
        Assert.Equal(1, noLengths.ExitCode);
        Assert.Contains("--passkey needs --lengths", noLengths.Stderr);
    }

    private static List<(double, int, int, int)> Measures(JsonElement root) =>
        root.GetProperty("runs").EnumerateArray().SelectMany(r => r.GetProperty("lengths").EnumerateArray().Select(l =>
            (r.GetProperty("rope_theta").GetDouble(), l.GetProperty("length").GetInt32(), l.GetProperty("key_position").GetInt32(), l.GetProperty("hits").GetInt32()))).ToList();
}
