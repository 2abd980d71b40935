using Trainer.Config;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary>
/// Evaluation does not change training, so eval.* may change on resume; with checkpoint.keep_best on, only its cadence
/// may (the best so far and the next checkpoint must be measured alike), and keep_best itself never changes.
/// </summary>
public class EvalResumeConfigTests
{
    private static readonly string[] Eval = [$"eval.data={FixtureBeir.Folder}", "eval.every_steps=3", "eval.max_queries=8"];

    private static TrainSummary Train(string outputDir, TrainOptions options, params string[] overrides) =>
        new TrainingRun(TrainingFixture.Config(outputDir, overrides), options, TextWriter.Null).Run();

    [Fact]
    public void Without_keep_best_every_eval_key_may_change_and_evaluation_may_be_switched_off()
    {
        var dir = TestPaths.TempDir("eval-resume-free");
        Train(dir, new TrainOptions { StopAfterSteps = 3 }, Eval);
        var b = Train(dir, new TrainOptions { Resume = true, StopAfterSteps = 1 }, $"eval.data={FixtureBeir.Folder}", "eval.every_steps=1", "eval.max_queries=5",
            "eval.instruction=''", "eval.top_k=10", "eval.batch_size=2");
        Assert.Equal(4, b.LastStep);
        var c = Train(dir, new TrainOptions { Resume = true }); // no eval section at all now
        Assert.Equal(6, c.LastStep);
    }

    [Fact]
    public void With_keep_best_the_measured_keys_and_keep_best_itself_are_refused_and_the_cadence_may_change()
    {
        var dir = TestPaths.TempDir("eval-resume-best");
        string[] keepBest = [.. Eval, "checkpoint.keep_best=ndcg_at_10"];
        Train(dir, new TrainOptions { StopAfterSteps = 3 }, keepBest);
        var checkpoint = Path.Combine(dir, "checkpoint-3");

        var e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true }, [.. keepBest, "eval.max_queries=5", "eval.top_k=10"]));
        Assert.StartsWith($"Cannot resume from {checkpoint}: eval.max_queries: 8 → 5; eval.top_k: 100 → 10. ", e.Message);
        Assert.Contains("eval.every_steps, eval.batch_size (checkpoint.keep_best is on) may change", e.Message);

        e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true }, [.. Eval, "checkpoint.keep_best=mrr_at_10"]));
        Assert.StartsWith($"Cannot resume from {checkpoint}: checkpoint.keep_best: ndcg_at_10 → mrr_at_10. ", e.Message);

        var b = Train(dir, new TrainOptions { Resume = true }, [.. keepBest, "eval.every_steps=1", "eval.batch_size=3"]);
        Assert.Equal(6, b.LastStep);
        Assert.NotNull(TrainingState.Load(b.LastCheckpoint!).BestCheckpoint);
    }
}
