using System.Text.Json;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary><c>trainer eval --task</c> run as a separate process with the tiny Mistral.</summary>
public class EvalTaskCommandTests
{
    [Fact]
    public void Eval_task_writes_an_mteb_result_file_and_the_summary_by_type()
    {
        var data = HandMadeSets.Write("STS");
        var results = TestPaths.TempDir("eval-task-results");
        File.Copy(TestPaths.Fixture("mteb", "BIOSSES.e5-mistral.json"), Path.Combine(results, "BIOSSES.json"));
        string output = Path.Combine(results, "STSBenchmark.json");

        var result = CliRunner.Run("eval", "--task", "STSBenchmark", "--model", TestPaths.TinyMistral, "--data", data, "--max-length", "32",
            "--batch-size", "8", "--output", output, "--summary", results);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("task STSBenchmark (STS)", result.Stderr);
        Assert.Contains("instruction \"Retrieve semantically similar text.\" on every input, normalised embeddings", result.Stderr);
        Assert.Matches(@"STSBenchmark \| test \| default \| main_score -?[01]\.\d{4}", result.Stdout);
        Assert.Matches(@"STS\s+2\s+-?\d+\.\d\d", result.Stdout); // BIOSSES (published) and ours, averaged by type
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal("STSBenchmark", json.RootElement.GetProperty("task_name").GetString());
        var scores = json.RootElement.GetProperty("scores").GetProperty("test")[0];
        Assert.Equal(scores.GetProperty("cosine_spearman").GetDouble(), scores.GetProperty("main_score").GetDouble());
    }

    [Fact]
    public void A_bad_row_fails_with_one_line_naming_file_row_and_column_before_the_model_loads()
    {
        var data = TestPaths.TempDir("eval-task-bad");
        File.WriteAllLines(Path.Combine(data, "test.jsonl"), ["{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 1}", "{\"sentence1\": \"a\", \"score\": 2}"]);

        var result = CliRunner.Run("eval", "--task-type", "STS", "--model", TestPaths.TinyMistral, "--data", data);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{Path.Combine(data, "test.jsonl")}:2, column \"sentence2\": missing", result.Stderr);
        Assert.DoesNotContain("eval: task", result.Stderr); // the data is checked before the model loads
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("column", StringComparison.Ordinal));
    }
}
