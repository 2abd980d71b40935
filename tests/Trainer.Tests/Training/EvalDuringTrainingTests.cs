using System.Text.Json;
using Trainer.Evaluation;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary>Evaluation during training measures the model of its step, and leaves the run exactly as it would be without it.</summary>
public class EvalDuringTrainingTests
{
    private static readonly string[] Eval = [$"eval.data={FixtureBeir.Folder}", "eval.every_steps=2", "eval.max_queries=20"];

    private static TrainSummary Train(string outputDir, TrainOptions options, params string[] overrides) =>
        new TrainingRun(TrainingFixture.Config(outputDir, overrides), options, TextWriter.Null).Run();

    private static List<JsonElement> Lines(string outputDir) =>
        File.ReadAllLines(Path.Combine(outputDir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static (int Step, int LossBits)[] Losses(string outputDir) =>
        Lines(outputDir).Where(l => l.TryGetProperty("loss", out _))
            .Select(l => (l.GetProperty("step").GetInt32(), BitConverter.SingleToInt32Bits(l.GetProperty("loss").GetSingle()))).ToArray();

    private static List<JsonElement> EvalLines(string outputDir) => Lines(outputDir).Where(l => l.TryGetProperty("eval_ndcg_at_10", out _)).ToList();

    private static byte[] Adapter(string checkpoint) => File.ReadAllBytes(Path.Combine(checkpoint, PeftAdapter.WeightsFile));

    /// <summary>The measures of the tiny model with the given adapter (none: the base model), evaluated on its own.</summary>
    private static IReadOnlyDictionary<string, double> EvaluateAlone(string? adapter)
    {
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: adapter is null ? null : PeftAdapter.ReadSettings(adapter));
        if (adapter is not null) PeftAdapter.Load(adapter, model);
        var options = new RetrievalEvaluationOptions { Instruction = "Find the abstract", MaxLength = 24, BatchSize = 16, TopK = 100, MaxQueries = 20 };
        return RetrievalEvaluator.Evaluate(model, EmbeddingTokenizer.Load(TestPaths.TinyMistral), BeirDataset.Load(FixtureBeir.Folder, "dev"), options).Report.Mean;
    }

    [Fact]
    public void Losses_and_adapter_are_bitwise_the_same_with_evaluation_on_and_off()
    {
        var off = TestPaths.TempDir("eval-off");
        var on = TestPaths.TempDir("eval-on");
        var a = Train(off, new TrainOptions());
        var log = new StringWriter();
        var b = new TrainingRun(TrainingFixture.Config(on, Eval), new TrainOptions(), log).Run();

        Assert.Equal(Enumerable.Range(1, 6), Losses(on).Select(l => l.Step));
        Assert.Equal(Losses(off), Losses(on));
        Assert.Equal(Adapter(a.LastCheckpoint!), Adapter(b.LastCheckpoint!));
        Assert.Equal(Adapter(Path.Combine(off, "checkpoint-3")), Adapter(Path.Combine(on, "checkpoint-3")));
        Assert.Empty(EvalLines(off));

        // Before the first step, every eval.every_steps, and after the last: each a line of its own after that step's training line.
        var evals = EvalLines(on);
        Assert.Equal([0, 2, 4, 6], evals.Select(e => e.GetProperty("step").GetInt32()));
        Assert.Equal(["step", "eval_ndcg_at_10", "eval_recall_at_100", "eval_mrr_at_10", "eval_map_at_100", "eval_queries", "eval_runtime_s"],
            evals[0].EnumerateObject().Select(p => p.Name));
        Assert.All(evals, e => Assert.Equal(20, e.GetProperty("eval_queries").GetInt32()));
        Assert.Equal([0, 1, 2, 2, 3, 4, 4, 5, 6, 6], Lines(on).Select(l => l.GetProperty("step").GetInt32()));
        Assert.Contains("eval step 0/6 | dev: 20 queries | nDCG@10 ", log.ToString());

        // Step 0 measures the base model (B = 0); step 6 the final adapter: the same numbers as evaluating them alone.
        var before = EvaluateAlone(null);
        var after = EvaluateAlone(b.LastCheckpoint);
        foreach (var (name, value) in before) Assert.Equal(value, evals[0].GetProperty("eval_" + name).GetDouble(), 12);
        foreach (var (name, value) in after) Assert.Equal(value, evals[^1].GetProperty("eval_" + name).GetDouble(), 12);
        Assert.NotEqual(before.Values, after.Values); // training moved the measures, so the two checks above tell steps apart

        var events = Directory.GetFiles(Path.Combine(on, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories);
        var bytes = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(Assert.Single(events)));
        foreach (var name in new[] { "ndcg_at_10", "recall_at_100", "mrr_at_10", "map_at_100", "runtime_s" }) Assert.Contains("eval/" + name, bytes);
    }

    [Fact]
    public void Stop_and_resume_with_evaluation_is_bitwise_identical_to_a_straight_run()
    {
        var straight = TestPaths.TempDir("eval-straight");
        var resumed = TestPaths.TempDir("eval-resumed");
        var a = Train(straight, new TrainOptions(), Eval);
        Train(resumed, new TrainOptions { StopAfterSteps = 4 }, Eval); // "killed" after step 4 and its evaluation; newest checkpoint is step 3
        Assert.Equal([0, 2, 4], EvalLines(resumed).Select(e => e.GetProperty("step").GetInt32()));
        var b = Train(resumed, new TrainOptions { Resume = true }, Eval);
        Assert.Equal((4, 6), (b.FirstStep, b.LastStep));

        Assert.Equal(Losses(straight), Losses(resumed));
        Assert.Equal(Adapter(a.LastCheckpoint!), Adapter(b.LastCheckpoint!));
        // Step 4's lines went with the resume and came back once; no evaluation at the resumed step 3 (not due), none at step 0 again.
        Assert.Equal(Lines(straight).Select(l => l.GetProperty("step").GetInt32()), Lines(resumed).Select(l => l.GetProperty("step").GetInt32()));
        var measures = new[] { "eval_ndcg_at_10", "eval_recall_at_100", "eval_mrr_at_10", "eval_map_at_100" };
        Assert.Equal(EvalLines(straight).SelectMany(e => measures.Select(m => e.GetProperty(m).GetDouble())),
                     EvalLines(resumed).SelectMany(e => measures.Select(m => e.GetProperty(m).GetDouble())));
    }

    [Fact]
    public void A_missing_split_fails_before_training_naming_the_splits_there()
    {
        var dir = TestPaths.TempDir("eval-split");
        var e = Assert.Throws<FileNotFoundException>(() => Train(dir, new TrainOptions(), [.. Eval, "eval.split=test"]));
        Assert.Equal($"{Path.Combine(FixtureBeir.Folder, "qrels", "test.tsv")} not found; the splits in {Path.Combine(FixtureBeir.Folder, "qrels")} are: dev.", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, MetricsLog.FileName)));
    }
}
