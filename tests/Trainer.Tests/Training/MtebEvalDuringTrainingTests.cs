using System.Text.Json;
using Trainer.Config;
using Trainer.Evaluation.Mteb;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary><c>eval.task</c>: an MTEB task evaluated during training, and <c>checkpoint.keep_best: main_score</c> on it.</summary>
public class MtebEvalDuringTrainingTests
{
    /// <summary>A small STS set in the hub's JSONL layout (test.jsonl): 12 sentence pairs with scores, ties included.</summary>
    private static string StsFolder()
    {
        var folder = TestPaths.TempDir("train-sts");
        string[] words = ["cell", "protein", "gene", "virus", "tumor", "drug", "blood", "brain", "heart", "lung", "bone", "skin"];
        var lines = words.Select((w, i) => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["sentence1"] = $"the {w} study",
            ["sentence2"] = i % 2 == 0 ? $"a {w} study" : $"the {words[(i + 5) % 12]} result",
            ["score"] = new[] { 5, 1, 4.5, 1, 4, 0, 4, 0.5, 3, 1, 3, 0 }[i],
        }));
        File.WriteAllLines(Path.Combine(folder, "test.jsonl"), lines);
        return folder;
    }

    [Fact]
    public void An_sts_task_is_evaluated_at_each_step_and_keep_best_keeps_the_highest_main_score()
    {
        var data = StsFolder();
        var output = TestPaths.TempDir("train-mteb");
        var log = new StringWriter();
        var summary = new TrainingRun(TrainingFixture.Config(output, $"eval.data={data}", "eval.task=STSBenchmark", "eval.split=test", "eval.every_steps=2",
            "checkpoint.every_steps=2", "checkpoint.keep_best=main_score"), new TrainOptions(), log).Run();

        var evals = File.ReadAllLines(Path.Combine(output, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.TryGetProperty("eval_main_score", out _)).ToList();
        Assert.Equal([0, 2, 4, 6], evals.Select(e => e.GetProperty("step").GetInt32()));
        Assert.All(evals, e => Assert.Equal(e.GetProperty("eval_cosine_spearman").GetDouble(), e.GetProperty("eval_main_score").GetDouble()));
        Assert.All(evals, e => Assert.Equal(24, e.GetProperty("eval_queries").GetInt32())); // 12 pairs, both sides embedded
        Assert.Contains("eval step 2/6 | STSBenchmark test: 24 texts | main_score ", log.ToString());

        // the best checkpoint is the earliest of the highest main scores among the checkpointed steps
        var scored = evals.Where(e => e.GetProperty("step").GetInt32() > 0).Select(e => (Step: e.GetProperty("step").GetInt32(), Score: e.GetProperty("eval_main_score").GetDouble())).ToList();
        var best = scored.First(s => s.Score == scored.Max(x => x.Score));
        var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(summary.LastCheckpoint!, "trainer_state.json"))).RootElement;
        Assert.Equal($"checkpoint-{best.Step}", state.GetProperty("best_checkpoint").GetString());
        Assert.True(Directory.Exists(Path.Combine(output, $"checkpoint-{best.Step}")));

        // the logged score is the checkpoint's own: evaluated alone through the same evaluator it is bitwise the same
        var checkpoint = Path.Combine(output, "checkpoint-4");
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: PeftAdapter.ReadSettings(checkpoint));
        PeftAdapter.Load(checkpoint, model);
        var task = MtebTask.Resolve("STSBenchmark", null, null);
        var alone = MtebEvaluator.Evaluate(MtebTaskData.Load(task, data, "test", new MtebOptions()),
            new ModelTextEncoder(model, EmbeddingTokenizer.Load(TestPaths.TinyMistral), 24, 16), new MtebOptions());
        Assert.Equal(scored.Single(s => s.Step == 4).Score, alone.MainScore("test"));
    }

    [Theory]
    [InlineData("eval.task=NoSuchTask", "eval.task NoSuchTask is not in the built-in e5 table")]
    [InlineData("eval.task_type=Pairs", "eval.task_type = \"Pairs\" is not a task type")]
    public void A_bad_task_fails_at_config_time(string key, string message)
    {
        var error = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("bad-task"), "eval.data=/tmp", key));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Keep_best_on_an_mteb_task_names_main_score_or_the_types_measure()
    {
        var error = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("bad-best"), "eval.data=/tmp", "eval.task=STSBenchmark", "checkpoint.keep_best=ndcg_at_10"));
        Assert.Contains("main_score, cosine_spearman", error.Message);
    }
}
