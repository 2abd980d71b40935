using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Models.Lora;
using Trainer.Training;

namespace Trainer.Tests.Training;

public class ResumeTests
{
    private static List<JsonElement> Metrics(string outputDir) =>
        File.ReadAllLines(Path.Combine(outputDir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    internal static (int Step, float Loss)[] Losses(string outputDir) =>
        Metrics(outputDir).Select(m => (m.GetProperty("step").GetInt32(), m.GetProperty("loss").GetSingle())).ToArray();

    internal static byte[] Adapter(string checkpoint) => File.ReadAllBytes(Path.Combine(checkpoint, PeftAdapter.WeightsFile));

    internal static TrainSummary Train(string outputDir, TrainOptions options, params string[] overrides) =>
        new TrainingRun(TrainingFixture.Config(outputDir, overrides), options, TextWriter.Null).Run();

    [Fact]
    public void Stop_and_resume_is_bitwise_identical_to_a_straight_run()
    {
        var straight = TestPaths.TempDir("straight");
        var resumed = TestPaths.TempDir("resumed");
        var a = Train(straight, new TrainOptions());
        var stopped = Train(resumed, new TrainOptions { StopAfterSteps = 4 }); // "killed" after step 4; newest checkpoint is step 3
        Assert.Equal(4, stopped.LastStep);
        Assert.Equal(Enumerable.Range(1, 4), Losses(resumed).Select(l => l.Step));
        var b = Train(resumed, new TrainOptions { Resume = true });
        Assert.Equal(4, b.FirstStep);
        Assert.Equal(6, b.LastStep);

        var straightLosses = Losses(straight);
        Assert.Equal(Enumerable.Range(1, 6), straightLosses.Select(l => l.Step));
        // The first attempt logged steps 1–4; resuming from checkpoint-3 drops its step 4 and logs 4–6 again: each step once.
        var resumedLosses = Losses(resumed);
        Assert.Equal(Enumerable.Range(1, 6), resumedLosses.Select(l => l.Step));
        Assert.Equal(straightLosses.Select(l => BitConverter.SingleToInt32Bits(l.Loss)), resumedLosses.Select(l => BitConverter.SingleToInt32Bits(l.Loss)));
        Assert.Equal(Adapter(a.LastCheckpoint!), Adapter(b.LastCheckpoint!));
        Assert.Equal(Path.Combine(resumed, "checkpoint-6"), b.LastCheckpoint);
        Assert.NotEqual(straightLosses[0].Loss, straightLosses[^1].Loss);
    }

    [Fact]
    public void Raising_max_steps_on_resume_continues_the_same_run()
    {
        var straight = TestPaths.TempDir("straight-const");
        var resumed = TestPaths.TempDir("raised-const");
        string[] constant = ["training.lr_scheduler=constant"];
        var a = Train(straight, new TrainOptions(), constant);
        Train(resumed, new TrainOptions(), [.. constant, "training.max_steps=3"]);
        var b = Train(resumed, new TrainOptions { Resume = true }, [.. constant, "training.max_steps=6"]);
        Assert.Equal(Losses(straight).Select(l => BitConverter.SingleToInt32Bits(l.Loss)), Losses(resumed).Select(l => BitConverter.SingleToInt32Bits(l.Loss)));
        Assert.Equal(Adapter(a.LastCheckpoint!), Adapter(b.LastCheckpoint!));
    }

    [Fact]
    public void Resume_ignores_an_interrupted_temporary_folder_and_skips_an_invalid_checkpoint()
    {
        var dir = TestPaths.TempDir("broken");
        Train(dir, new TrainOptions { StopAfterSteps = 3 });
        var checkpoint3 = Path.Combine(dir, "checkpoint-3");
        Assert.Null(CheckpointStore.Validate(checkpoint3));

        // A crash while writing step 5 leaves a temporary folder; a later checkpoint lost its optimizer state.
        Directory.CreateDirectory(Path.Combine(dir, CheckpointStore.TempPrefix + "5"));
        File.WriteAllText(Path.Combine(dir, CheckpointStore.TempPrefix + "5", TrainingState.FileName), "{\"step\": 5");
        var broken = Path.Combine(dir, "checkpoint-4");
        CopyDirectory(checkpoint3, broken);
        File.Delete(Path.Combine(broken, CheckpointStore.OptimizerFile));

        var log = new StringWriter();
        var summary = new TrainingRun(TrainingFixture.Config(dir), new TrainOptions { Resume = true }, log).Run();
        Assert.Contains($"warning: skipping checkpoint {broken}: missing {CheckpointStore.OptimizerFile}", log.ToString());
        Assert.Contains($"resumed from {checkpoint3} at step 3", log.ToString());
        Assert.Equal(4, summary.FirstStep);

        var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(TrainingFixture.Config(dir), new TrainOptions { ResumeFrom = broken }, TextWriter.Null).Run());
        Assert.Contains($"Cannot resume from {broken}: missing {CheckpointStore.OptimizerFile}", e.Message);
    }

    [Fact]
    public void Non_empty_output_dir_needs_resume_or_overwrite()
    {
        var dir = TestPaths.TempDir("occupied");
        Train(dir, new TrainOptions { StopAfterSteps = 1 }, "checkpoint.every_steps=1");
        var e = Assert.Throws<InvalidOperationException>(() => Train(dir, new TrainOptions()));
        Assert.Contains("is not empty. Use --resume to continue the run there, or --overwrite", e.Message);
        Train(dir, new TrainOptions { Overwrite = true, StopAfterSteps = 1 }, "checkpoint.every_steps=1");
        Assert.Single(File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName))); // the first run's metrics went with it
    }

    [Fact]
    public void Checkpoints_hold_everything_and_keep_last_prunes()
    {
        var dir = TestPaths.TempDir("keep");
        var summary = Train(dir, new TrainOptions(), "checkpoint.every_steps=1", "checkpoint.keep_last=2");
        Assert.Equal(["checkpoint-5", "checkpoint-6"], Directory.GetDirectories(dir, "checkpoint-*").Select(Path.GetFileName).Order());
        foreach (var file in CheckpointStore.RequiredFiles) Assert.True(File.Exists(Path.Combine(summary.LastCheckpoint!, file)), file);
        var state = TrainingState.Load(summary.LastCheckpoint!);
        Assert.Equal((6, 1, 0, 6), (state.Step, state.Epoch, state.IndexInEpoch, state.TotalSteps)); // 24 rows / batch 4 = 6 steps per epoch

        var metrics = Metrics(dir);
        foreach (var key in new[] { "step", "epoch", "loss", "learning_rate", "grad_norm", "samples_per_s", "tokens_per_s", "elapsed_s" })
            Assert.True(metrics[0].TryGetProperty(key, out _), key);
        Assert.True(Directory.EnumerateFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Init_adapter_starts_from_an_existing_adapter_whose_rank_wins()
    {
        var dir = TestPaths.TempDir("init");
        var fixture = Path.Combine(TestPaths.TinyMistral, "lora-adapter");
        var log = new StringWriter();
        var summary = new TrainingRun(TrainingFixture.Config(dir, $"lora.init_adapter={fixture}", "lora.rank=16", "training.max_steps=1"), new TrainOptions(), log).Run();
        Assert.Contains("has r=4, alpha=8; these win over the config's lora.rank=16", log.ToString());
        var settings = PeftAdapter.ReadSettings(summary.LastCheckpoint!);
        Assert.Equal((4, 8.0), (settings.Rank, settings.Alpha));

        // Step 1's loss is the fixture adapter's loss on that batch: far from what a fresh (B = 0) adapter gives.
        var fresh = TestPaths.TempDir("init-fresh");
        new TrainingRun(TrainingFixture.Config(fresh, "lora.rank=4", "lora.alpha=8", "training.max_steps=1"), new TrainOptions(), TextWriter.Null).Run();
        Assert.NotEqual(Losses(fresh)[0].Loss, Losses(dir)[0].Loss);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
