using Trainer.Config;
using Trainer.Models.Lora;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary>Resume continues the same run, so it refuses config or data changes that would make another one.</summary>
public class ResumeConfigTests
{
    private static TrainSummary Train(string outputDir, TrainOptions options, params string[] overrides) =>
        new TrainingRun(TrainingFixture.Config(outputDir, overrides), options, TextWriter.Null).Run();

    /// <summary>A run stopped after step 3 (its newest checkpoint), trained on its own copy of the fixture data.</summary>
    private static (string Dir, string Data, string Checkpoint) Stopped(string name)
    {
        var dir = TestPaths.TempDir(name);
        var data = Path.Combine(TestPaths.TempDir(name + "-data"), "train.jsonl");
        File.Copy(TrainingFixture.DataFile, data);
        Train(dir, new TrainOptions { StopAfterSteps = 3 }, $"data.train=[{data}]");
        return (dir, data, Path.Combine(dir, "checkpoint-3"));
    }

    [Fact]
    public void Changed_batch_size_and_learning_rate_are_refused_in_one_error_naming_old_and_new_values()
    {
        var (dir, data, checkpoint) = Stopped("changed-keys");
        var e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true },
            $"data.train=[{data}]", "training.batch_size=2", "training.learning_rate=0.02"));
        Assert.StartsWith($"Cannot resume from {checkpoint}: training.batch_size: 4 → 2; training.learning_rate: 0.01 → 0.02.", e.Message);
        Assert.Contains($"to start a new run from these weights, set lora.init_adapter: {checkpoint} in a fresh output_dir", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "checkpoint-6"))); // refused before training
    }

    [Fact]
    public void Another_data_file_or_an_edited_one_is_refused()
    {
        var (dir, data, checkpoint) = Stopped("changed-data");
        var other = Path.Combine(TestPaths.TempDir("other-data"), "train.jsonl");
        File.Copy(data, other); // the same rows under another name: still another file
        var e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true }, $"data.train=[{other}]"));
        Assert.StartsWith($"Cannot resume from {checkpoint}: data.train: [{data}] → [{other}]", e.Message);

        var lines = File.ReadAllLines(data);
        lines[0] = lines[0].Replace("\"query\": \"", "\"query\": \"edited ", StringComparison.Ordinal);
        File.WriteAllLines(data, lines);
        e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true }, $"data.train=[{data}]"));
        Assert.Matches($"^Cannot resume from {System.Text.RegularExpressions.Regex.Escape(checkpoint)}: data.train file {System.Text.RegularExpressions.Regex.Escape(data)}: sha256 [0-9a-f]{{12}}… → [0-9a-f]{{12}}… \\(content changed\\)\\.", e.Message);
    }

    [Fact]
    public void Lowering_max_steps_below_the_checkpoint_is_refused()
    {
        var (dir, data, checkpoint) = Stopped("lowered");
        var e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { ResumeFrom = checkpoint }, $"data.train=[{data}]", "training.max_steps=2"));
        Assert.StartsWith($"Cannot resume from {checkpoint}: training.max_steps: 6 → 2 (2 steps in all, fewer than the checkpoint's 3).", e.Message);

        // Down to the checkpoint's own step is allowed: the run is then complete.
        var summary = Train(dir, new TrainOptions { ResumeFrom = checkpoint }, $"data.train=[{data}]", "training.max_steps=3");
        Assert.Equal(3, summary.LastStep);
    }

    [Fact]
    public void Logging_and_checkpoint_cadence_and_a_moved_output_dir_may_change_and_train_the_same()
    {
        var straight = Path.Combine(TestPaths.TempDir("cadence-straight"), "run");
        var (dir, data, _) = Stopped("cadence");
        var a = Train(straight, new TrainOptions(), $"data.train=[{data}]");
        var moved = Path.Combine(TestPaths.TempDir("cadence-moved"), "run");
        Directory.Move(dir, moved);
        var b = Train(moved, new TrainOptions { Resume = true }, $"data.train=[{data}]",
            "training.log_every_steps=2", "checkpoint.every_steps=2", "checkpoint.keep_last=2", "training.on_nonfinite=skip");
        Assert.Equal((4, 6), (b.FirstStep, b.LastStep));
        Assert.Equal(["checkpoint-4", "checkpoint-6"], Directory.GetDirectories(moved, "checkpoint-*").Select(Path.GetFileName).Order());
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.LastCheckpoint!, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(b.LastCheckpoint!, PeftAdapter.WeightsFile)));
    }

    [Fact]
    public void Adam_betas_and_epsilon_are_not_changeable_on_resume()
    {
        Assert.DoesNotContain(ResumeCheck.Changeable, k => k.StartsWith("training.adam_", StringComparison.Ordinal));
        var (dir, data, checkpoint) = Stopped("changed-adam");
        var e = Assert.Throws<ConfigException>(() => Train(dir, new TrainOptions { Resume = true },
            $"data.train=[{data}]", "training.adam_beta1=0.8", "training.adam_beta2=0.99", "training.adam_epsilon=1.0e-6"));
        Assert.StartsWith($"Cannot resume from {checkpoint}: training.adam_beta1: 0.9 → 0.8; training.adam_beta2: 0.999 → 0.99; training.adam_epsilon: 1E-08 → 1E-06.", e.Message);
    }

    [Fact]
    public void Resuming_a_complete_run_says_so_and_names_the_final_checkpoint()
    {
        var dir = TestPaths.TempDir("complete");
        var first = Train(dir, new TrainOptions());
        var log = new StringWriter();
        var again = new TrainingRun(TrainingFixture.Config(dir), new TrainOptions { Resume = true }, log).Run();
        var final = Path.Combine(dir, "checkpoint-6");
        Assert.Equal(final, first.LastCheckpoint);
        Assert.EndsWith($"nothing to do: the run is complete at step 6/6 (adapter in {final}){Environment.NewLine}", log.ToString());
        Assert.DoesNotContain("no checkpoint written", log.ToString());
        Assert.Equal((6, null, final), (again.LastStep, again.LastLoss, again.LastCheckpoint));
    }
}
