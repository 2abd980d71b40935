using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Models.Lora;
using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Checkpointing;

/// <summary>checkpoint.keep_best keeps the checkpoint with the best evaluation beside the newest keep_last ones, and trainer_state names it.</summary>
public class KeepBestTests
{
    private static string[] KeepBest(string measure) =>
        [$"eval.data={FixtureBeir.Folder}", "eval.every_steps=1", "checkpoint.every_steps=1", "checkpoint.keep_last=1", $"checkpoint.keep_best={measure}"];

    private static TrainSummary Train(string outputDir, TrainOptions options, params string[] overrides) =>
        new TrainingRun(TrainingFixture.Config(outputDir, overrides), options, TextWriter.Null).Run();

    private static string[] CheckpointNames(string dir) => Directory.GetDirectories(dir, "checkpoint-*").Select(d => Path.GetFileName(d)!).Order().ToArray();

    [Fact]
    public void Prune_keeps_the_named_checkpoint_beside_the_newest()
    {
        var dir = TestPaths.TempDir("prune-keep");
        foreach (int step in new[] { 1, 2, 3, 10, 11 }) Directory.CreateDirectory(Path.Combine(dir, "checkpoint-" + step));
        new CheckpointStore(dir).Prune(2, keep: "checkpoint-2");
        Assert.Equal(["checkpoint-10", "checkpoint-11", "checkpoint-2"], CheckpointNames(dir));
        new CheckpointStore(dir).Prune(2, keep: "checkpoint-11"); // already among the newest: nothing extra kept
        Assert.Equal(["checkpoint-10", "checkpoint-11"], CheckpointNames(dir));
    }

    /// <summary>
    /// The fixture's nDCG@10 rises at every step but the first (whose learning rate is 0 in the warm-up), so the best
    /// is the newest. Its corpus has 47 documents, fewer than 100, so Recall@100 is 1 at every step: the earliest of
    /// equals, checkpoint-1, stays the best while five newer checkpoints are written and keep_last = 1 prunes them.
    /// </summary>
    [Theory]
    [InlineData("ndcg_at_10", 6)]
    [InlineData("recall_at_100", 1)]
    public void The_best_checkpoint_survives_keep_last_and_trainer_state_names_it_also_after_a_resume(string measure, int bestStep)
    {
        var straight = TestPaths.TempDir("keep-best");
        var log = new StringWriter();
        var summary = new TrainingRun(TrainingFixture.Config(straight, KeepBest(measure)), new TrainOptions(), log).Run();

        // The best of the checkpoints 1–6 by the measure logged at their step (the first of equals).
        var evals = File.ReadAllLines(Path.Combine(straight, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.TryGetProperty("eval_" + measure, out _))
            .Select(l => (Step: l.GetProperty("step").GetInt32(), Value: l.GetProperty("eval_" + measure).GetDouble())).ToList();
        Assert.Equal(Enumerable.Range(0, 7), evals.Select(e => e.Step));
        var best = evals.Where(e => e.Step > 0).Aggregate((b, e) => e.Value > b.Value ? e : b); // step 0 has no checkpoint
        Assert.Equal(bestStep, best.Step);

        Assert.Equal(new[] { $"checkpoint-{best.Step}", "checkpoint-6" }.Distinct().Order(), CheckpointNames(straight));
        var state = TrainingState.Load(summary.LastCheckpoint!);
        Assert.Equal(($"checkpoint-{best.Step}", (double?)best.Value), (state.BestCheckpoint, state.BestMetric));
        Assert.Null(CheckpointStore.Validate(Path.Combine(straight, state.BestCheckpoint!)));
        Assert.Contains($"best checkpoint: {Path.Combine(straight, $"checkpoint-{best.Step}")} ({measure} {best.Value:F4})", log.ToString());

        // Stopped after step 4 and resumed: the resumed run takes the best so far from the checkpoint's state.
        var resumed = TestPaths.TempDir("keep-best-resumed");
        Train(resumed, new TrainOptions { StopAfterSteps = 4 }, KeepBest(measure));
        var resumedSummary = Train(resumed, new TrainOptions { Resume = true }, KeepBest(measure));
        var resumedState = TrainingState.Load(resumedSummary.LastCheckpoint!);
        Assert.Equal((state.BestCheckpoint, state.BestMetric), (resumedState.BestCheckpoint, resumedState.BestMetric));
        Assert.Equal(CheckpointNames(straight), CheckpointNames(resumed));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, state.BestCheckpoint!, PeftAdapter.WeightsFile)),
                     File.ReadAllBytes(Path.Combine(resumed, state.BestCheckpoint!, PeftAdapter.WeightsFile)));
    }

    [Fact]
    public void Without_keep_best_the_state_names_no_best_and_keep_last_prunes_as_before()
    {
        var dir = TestPaths.TempDir("no-keep-best");
        var summary = Train(dir, new TrainOptions(), $"eval.data={FixtureBeir.Folder}", "eval.every_steps=1", "checkpoint.every_steps=1", "checkpoint.keep_last=1");
        Assert.Equal(["checkpoint-6"], CheckpointNames(dir));
        var state = TrainingState.Load(summary.LastCheckpoint!);
        Assert.Equal((null, null), (state.BestCheckpoint, state.BestMetric));
    }
}
