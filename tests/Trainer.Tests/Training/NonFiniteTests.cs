using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Models.Lora;
using Trainer.Tests.Cli;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary>
/// A NaN or Inf loss, gradient norm or weight stops the run (or, on request, skips the step) and never reaches a
/// checkpoint. At learning rate 1e30 (no warmup) step 1 is finite and moves lora_B to about ±1e30; step 2's loss is NaN.
/// </summary>
public class NonFiniteTests
{
    private static readonly string[] Diverging = ["training.learning_rate=1e30", "training.warmup_steps=0", "checkpoint.every_steps=1"];

    private static string[] MetricsLines(string dir) => File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName));

    [Fact]
    public void A_nan_loss_stops_the_run_at_that_step_without_checkpointing_it()
    {
        var dir = TestPaths.TempDir("nan-stop");
        var e = Assert.Throws<TrainingDivergedException>(() => new TrainingRun(TrainingFixture.Config(dir, Diverging), new TrainOptions(), TextWriter.Null).Run());
        Assert.Equal(2, e.Step);
        Assert.StartsWith("Training diverged at step 2: non-finite loss (loss NaN", e.Message);
        Assert.Contains("training.on_nonfinite: skip", e.Message);
        Assert.Equal(["checkpoint-1"], Directory.GetDirectories(dir, "checkpoint-*").Select(Path.GetFileName));
        Assert.Null(CheckpointStore.Validate(Path.Combine(dir, "checkpoint-1")));
        // The diverged step is logged, NaN as a string, so metrics.jsonl stays valid JSON.
        var last = JsonDocument.Parse(MetricsLines(dir)[^1]).RootElement;
        Assert.Equal((2, "NaN"), (last.GetProperty("step").GetInt32(), last.GetProperty("loss").GetString()));
    }

    [Fact]
    public void Skip_mode_takes_no_optimizer_step_but_consumes_the_batch_and_says_so()
    {
        var dir = TestPaths.TempDir("nan-skip");
        var log = new StringWriter();
        var summary = new TrainingRun(TrainingFixture.Config(dir, [.. Diverging, "checkpoint.keep_last=10", "training.on_nonfinite=skip"]), new TrainOptions(), log).Run();
        Assert.Equal(6, summary.LastStep);
        for (int step = 2; step <= 6; step++)
            Assert.Contains($"warning: step {step}: non-finite loss (loss NaN", log.ToString());
        Assert.Contains("step skipped (training.on_nonfinite: skip): no optimizer step, its batch is consumed", log.ToString());
        Assert.DoesNotContain("warning: step 1:", log.ToString());

        // Steps 2–6 changed nothing: every checkpoint holds step 1's (finite) adapter, and the data cursor moved on.
        var stepOne = File.ReadAllBytes(Path.Combine(dir, "checkpoint-1", PeftAdapter.WeightsFile));
        foreach (var step in new[] { 2, 6 })
        {
            Assert.Null(CheckpointStore.Validate(Path.Combine(dir, $"checkpoint-{step}")));
            Assert.Equal(stepOne, File.ReadAllBytes(Path.Combine(dir, $"checkpoint-{step}", PeftAdapter.WeightsFile)));
        }
        var state = TrainingState.Load(summary.LastCheckpoint!);
        Assert.Equal((6, 1, 0), (state.Step, state.Epoch, state.IndexInEpoch));
        Assert.Equal(6, MetricsLines(dir).Length);
    }

    [Fact]
    public void A_learning_rate_adamw_cannot_hold_in_float32_is_a_config_error()
    {
        // AdamW's first step is 10 × lr; beyond float32's range libtorch would fail inside optimizer.step().
        var e = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("lr-1e40"), "training.learning_rate=1e40"));
        Assert.Equal("training.learning_rate = 1e40 is invalid; expected a number > 0 and ≤ 1E+30.", e.Message);
    }

    [Fact]
    public void The_cli_stops_with_one_error_line_and_exit_code_1()
    {
        var dir = TestPaths.TempDir("nan-cli");
        var config = Path.Combine(TestPaths.TempDir("nan-cli-config"), "train.yaml");
        File.WriteAllText(config, ConfigLoader.ToYaml(TrainingFixture.Config(dir)));
        var result = CliRunner.Run(["train", "--config", config, .. Diverging.SelectMany(d => new[] { "--set", d })]);
        Assert.True(result.ExitCode == 1, result.Stderr);
        Assert.True(result.Stderr.Split('\n').Length == 2, result.Stderr);
        Assert.Matches("^error: Training diverged at step 2: non-finite loss \\(loss NaN, grad_norm NaN\\) at learning rate 8.333E\\+29; [^\n]*\n$", result.Stderr);
        Assert.Contains("step 2/6 | epoch 0 | loss NaN", result.Stdout);
    }
}
