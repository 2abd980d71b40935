using System.Text.Json;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Evaluation;

/// <summary><c>trainer eval --score-run</c>: another retriever's TREC run scored with the same metrics.</summary>
public class ScoreRunTests
{
    [Fact]
    public void A_run_scores_to_what_eval_reported_when_it_wrote_it()
    {
        var data = TinyBeir.Write();
        var folder = TestPaths.TempDir("score-run");
        string runPath = Path.Combine(folder, "run.trec"), first = Path.Combine(folder, "model.json"), second = Path.Combine(folder, "scored.json");
        var eval = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--max-length", "32", "--output", first, "--run", runPath);
        Assert.True(eval.ExitCode == 0, eval.Stderr);

        var scored = CliRunner.Run("eval", "--score-run", runPath, "--data", data, "--output", second);
        Assert.True(scored.ExitCode == 0, scored.Stderr);
        Assert.Equal(eval.Stdout, scored.Stdout); // the same table
        string Metrics(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("splits").GetProperty("test").GetProperty("metrics").GetRawText();
        Assert.Equal(Metrics(first), Metrics(second));
    }

    [Fact]
    public void A_bad_run_line_names_the_file_and_line()
    {
        var data = TinyBeir.Write();
        var runPath = Path.Combine(TestPaths.TempDir("score-run-bad"), "run.trec");
        File.WriteAllLines(runPath, ["q1 Q0 d01 1 0.5 bm25", "q1 Q0 d02 2 high bm25"]);
        var result = CliRunner.Run("eval", "--score-run", runPath, "--data", data);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {runPath}:2: score \"high\" is not a finite number.", result.Stderr.Trim());
        var both = CliRunner.Run("eval", "--score-run", runPath, "--data", data, "--model", TestPaths.TinyMistral);
        Assert.Contains("give --model or --score-run, not both.", both.Stderr);
    }
}
