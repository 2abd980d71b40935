using System.Text.Json;
using Trainer.Config;
using Trainer.Losses;
using Trainer.Models.Mistral;
using Trainer.Parallel;
using Trainer.Tests.Parallel;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary>
/// The false-negative filter and Matryoshka with everything else on: GradCache, gradient checkpointing, replicas and
/// resume each equal the plain run with the same loss options; the config keys are validated and refused on resume.
/// </summary>
public class LossOptionsTrainingTests
{
    /// <summary>Both options on; the tiny model's base embeddings are close together, so the filter masks some candidates.</summary>
    internal static readonly string[] Options = ["loss.false_negative_margin=0.05", "loss.matryoshka_dims=[32, 16, 8]", "loss.matryoshka_weights=[1, 0.5, 0.25]"];

    private static readonly InfoNceOptions StepOptions = new(0.02, 0.05, [32, 16, 8], [1, 0.5, 0.25]);

    private static List<JsonElement> Metrics(string dir) =>
        File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void GradCache_equals_the_full_batch_with_the_loss_options()
    {
        (float Loss, float Masked, Dictionary<string, Tensor> Grads) Step(MistralModel model, int? micro)
        {
            var step = new ContrastiveStep(new ReplicaSet([model]), micro, StepOptions); // the set is not disposed: it would dispose the model
            model.zero_grad();
            float loss, masked;
            using (var scope = NewDisposeScope())
            {
                loss = step.Run(GradCacheTests.Batch(), out var count).item<float>();
                masked = count.item<float>();
            }
            var grads = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
            return (loss, masked, grads);
        }

        using var full = ContrastiveFixture.Model(dropout: 0);
        using var cached = ContrastiveFixture.Model(dropout: 0);
        var a = Step(full, micro: null);
        var b = Step(cached, micro: 3);
        Assert.Equal(a.Loss, b.Loss, 1e-5);
        Assert.Equal(a.Masked, b.Masked);
        double diff = ContrastiveFixture.MaxRelativeDiff(a.Grads, b.Grads);
        Assert.True(diff <= 1e-5, $"max relative grad diff {diff}");
        TestContext.Current.TestOutputHelper?.WriteLine($"GradCache with the loss options: loss {a.Loss}, masked {a.Masked}, max relative grad diff {diff:G3}");
    }

    [Fact]
    public void Checkpointing_gradcache_and_two_replicas_each_equal_the_plain_run_with_the_loss_options()
    {
        var plain = DataParallelTests.Train(Options);
        var without = DataParallelTests.Train();
        Assert.NotEqual(without.Losses[0], plain.Losses[0]); // the options change the loss
        foreach (var extra in new[] { "model.gradient_checkpointing=true", "training.micro_batch_size=3", "training.devices=[cpu, cpu]" })
        {
            var (loss, adapter) = DataParallelTests.AssertSame(plain, DataParallelTests.Train([.. Options, extra]));
            TestContext.Current.TestOutputHelper?.WriteLine($"{extra}: max loss diff {loss:G3}, adapter max abs diff {adapter:G3}");
        }
    }

    [Fact]
    public void Masked_candidates_are_logged_per_step_and_the_startup_line_names_the_options()
    {
        var dir = TestPaths.TempDir("masked-log");
        var log = new StringWriter();
        new TrainingRun(TrainingFixture.Config(dir, ["training.max_steps=2", .. Options]), new TrainOptions(), log).Run();
        Assert.Contains("loss: InfoNCE, temperature 0.02; false-negative filter on (a candidate scoring above its row's positive + 0.05 cosine leaves the softmax; " +
                        "masked_candidates per step in metrics.jsonl); Matryoshka dims [32, 16, 8] of 32, weights [1, 0.5, 0.25] (loss = weighted sum)", log.ToString());
        var masked = Metrics(dir).Select(m => m.GetProperty("masked_candidates").GetInt32()).ToList();
        Assert.Equal(2, masked.Count);
        Assert.True(masked[0] > 0, "the fixture's first batch holds candidates above its positives + 0.05");
        Assert.Contains($"masked {masked[0]} |", log.ToString());

        var off = TestPaths.TempDir("masked-off");
        var offLog = new StringWriter();
        new TrainingRun(TrainingFixture.Config(off, "training.max_steps=1"), new TrainOptions(), offLog).Run();
        Assert.False(Metrics(off)[0].TryGetProperty("masked_candidates", out _));
        Assert.Contains("false-negative filter off; Matryoshka off (full 32 dims)", offLog.ToString());
    }

    [Fact]
    public void Stop_and_resume_is_bitwise_identical_with_the_loss_options()
    {
        var straight = TestPaths.TempDir("lossopts-straight");
        var resumed = TestPaths.TempDir("lossopts-resumed");
        var a = ResumeTests.Train(straight, new TrainOptions(), Options);
        ResumeTests.Train(resumed, new TrainOptions { StopAfterSteps = 4 }, Options);
        var b = ResumeTests.Train(resumed, new TrainOptions { Resume = true }, Options);
        Assert.Equal(ResumeTests.Losses(straight).Select(l => BitConverter.SingleToInt32Bits(l.Loss)), ResumeTests.Losses(resumed).Select(l => BitConverter.SingleToInt32Bits(l.Loss)));
        Assert.Equal(Metrics(straight).Select(m => m.GetProperty("masked_candidates").GetInt32()), Metrics(resumed).Select(m => m.GetProperty("masked_candidates").GetInt32()));
        Assert.Equal(ResumeTests.Adapter(a.LastCheckpoint!), ResumeTests.Adapter(b.LastCheckpoint!));
    }

    [Fact]
    public void Evaluation_during_training_leaves_the_run_with_the_loss_options_bitwise_unchanged()
    {
        var off = TestPaths.TempDir("lossopts-eval-off");
        var on = TestPaths.TempDir("lossopts-eval-on");
        var a = ResumeTests.Train(off, new TrainOptions(), [.. Options, "training.max_steps=4"]);
        var b = ResumeTests.Train(on, new TrainOptions(), [.. Options, "training.max_steps=4", $"eval.data={FixtureBeir.Folder}", "eval.every_steps=2", "eval.max_queries=20"]);
        var steps = Metrics(on).Where(m => m.TryGetProperty("loss", out _)).ToList();
        Assert.Equal(Metrics(off).Select(m => BitConverter.SingleToInt32Bits(m.GetProperty("loss").GetSingle())), steps.Select(m => BitConverter.SingleToInt32Bits(m.GetProperty("loss").GetSingle())));
        Assert.Equal(Metrics(off).Select(m => m.GetProperty("masked_candidates").GetInt32()), steps.Select(m => m.GetProperty("masked_candidates").GetInt32()));
        Assert.Equal([0, 2, 4], Metrics(on).Where(m => m.TryGetProperty("eval_ndcg_at_10", out _)).Select(m => m.GetProperty("step").GetInt32()));
        Assert.Equal(ResumeTests.Adapter(a.LastCheckpoint!), ResumeTests.Adapter(b.LastCheckpoint!));
    }

    [Fact]
    public void Resume_refuses_a_change_to_any_loss_option()
    {
        var dir = TestPaths.TempDir("lossopts-change");
        ResumeTests.Train(dir, new TrainOptions { StopAfterSteps = 3 }, Options);
        var checkpoint = Path.Combine(dir, "checkpoint-3");
        var e = Assert.Throws<ConfigException>(() => ResumeTests.Train(dir, new TrainOptions { Resume = true },
            "loss.false_negative_margin=0.1", "loss.matryoshka_dims=[32, 16]", "loss.matryoshka_weights=[1, 1]"));
        Assert.StartsWith($"Cannot resume from {checkpoint}: loss.false_negative_margin: 0.05 → 0.1; loss.matryoshka_dims: [32, 16, 8] → [32, 16]; " +
                          "loss.matryoshka_weights: [1, 0.5, 0.25] → [1, 1].", e.Message);
        var off = Assert.Throws<ConfigException>(() => ResumeTests.Train(dir, new TrainOptions { Resume = true }));
        Assert.StartsWith($"Cannot resume from {checkpoint}: loss.false_negative_margin: 0.05 → null; loss.matryoshka_dims: [32, 16, 8] → null; ", off.Message);
    }

    [Theory]
    [InlineData("loss.matryoshka_dims=[16, 32]", "loss.matryoshka_dims = [16, 32] is invalid; expected strictly descending sizes without duplicates, e.g. [4096, 1024, 256] (32 follows 16).")]
    [InlineData("loss.matryoshka_dims=[32, 16, 16]", "loss.matryoshka_dims = [32, 16, 16] is invalid; expected strictly descending sizes without duplicates, e.g. [4096, 1024, 256] (16 follows 16).")]
    [InlineData("loss.matryoshka_dims=[32, 0]", "loss.matryoshka_dims = [32, 0] is invalid; expected a list of integers ≥ 1 or null.")]
    [InlineData("loss.matryoshka_dims=[32, x]", "loss.matryoshka_dims = [32, x] is invalid; expected a list of integers ≥ 1 or null.")]
    [InlineData("loss.matryoshka_dims=[]", "loss.matryoshka_dims = [] is invalid; expected a list of integers ≥ 1 or null with at least one entry.")]
    [InlineData("loss.matryoshka_weights=[1, 0.5]", "loss.matryoshka_weights = [1, 0.5] is invalid; expected null without loss.matryoshka_dims.")]
    [InlineData("loss.false_negative_margin=-0.1", "loss.false_negative_margin = -0.1 is invalid; expected a number ≥ 0 and ≤ 2 or null.")]
    public void Bad_loss_options_name_the_key_the_value_and_what_is_allowed(string setting, string message)
    {
        var e = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("bad-loss"), setting));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Weights_need_one_per_dim_and_dims_must_fit_the_hidden_size()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("bad-loss"), "loss.matryoshka_dims=[32, 16]", "loss.matryoshka_weights=[1, 0.5, 0.25]"));
        Assert.Equal("loss.matryoshka_weights = [1, 0.5, 0.25] is invalid; expected one weight per loss.matryoshka_dims entry (2 for [32, 16]), or null for all 1.", e.Message);
        var w = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("bad-loss"), "loss.matryoshka_dims=[32, 16]", "loss.matryoshka_weights=[1, 0]"));
        Assert.Equal("loss.matryoshka_weights = [1, 0] is invalid; expected a list of numbers > 0 or null.", w.Message);

        var dir = TestPaths.TempDir("too-large");
        var large = Assert.Throws<ConfigException>(() => new TrainingRun(TrainingFixture.Config(dir, "loss.matryoshka_dims=[64, 16]"), new TrainOptions(), TextWriter.Null).Run());
        Assert.Equal("loss.matryoshka_dims = [64, 16] is invalid; expected sizes from 1 to the model's hidden size 32 (64 too large).", large.Message);
        Assert.False(File.Exists(Path.Combine(dir, MetricsLog.FileName))); // refused before training

        var yaml = Path.Combine(TestPaths.TempDir("too-large-dry"), "train.yaml");
        File.WriteAllText(yaml, $"model: {{path: {TestPaths.TinyMistral}}}\ndata: {{train: [{TrainingFixture.DataFile}]}}\nloss: {{matryoshka_dims: [64, 16]}}\n");
        var dry = Cli.CliRunner.Run("train", "--config", yaml, "--dry-run");
        Assert.NotEqual(0, dry.ExitCode);
        Assert.Contains("loss.matryoshka_dims = [64, 16] is invalid; expected sizes from 1 to the model's hidden size 32 (64 too large).", dry.Stderr);
    }
}
