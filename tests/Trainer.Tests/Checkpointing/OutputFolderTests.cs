using System.Diagnostics;
using Trainer.Checkpointing;
using Trainer.Tests.Cli;
using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Checkpointing;

/// <summary>
/// The training output_dir is guarded: <c>--overwrite</c> only deletes the run's own files, one run at a time holds
/// the folder, a killed run's lock is taken over, and bad folders fail before anything is loaded.
/// </summary>
public class OutputFolderTests
{
    /// <summary>A config file on disk for the real CLI: the fixture's settings with <paramref name="outputDir"/>.</summary>
    private static string WriteConfig(string folder, string outputDir, string training = "batch_size: 4, max_steps: 2", string model = "", string data = "")
    {
        var path = Path.Combine(folder, "train.yaml");
        File.WriteAllText(path, $$"""
            output_dir: {{outputDir}}
            model: {path: {{(model.Length > 0 ? model : TestPaths.TinyMistral)}}, max_length: 24}
            lora: {rank: 4, alpha: 8, dropout: 0.1}
            data: {train: [{{(data.Length > 0 ? data : TrainingFixture.DataFile)}}]}
            training: {{{training}}, seed: 7}
            checkpoint: {every_steps: 1000, keep_last: 2}
            """);
        return path;
    }

    private static void AssertOneLineError(CliRunner.Result result, string expected)
    {
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Overwrite_of_a_folder_holding_other_files_is_refused_and_deletes_nothing()
    {
        // output_dir: . next to the config, the model copy, the data and an unrelated file: the reported disaster.
        var dir = TestPaths.TempDir("overwrite-dot");
        var config = WriteConfig(dir, ".");
        File.Copy(TrainingFixture.DataFile, Path.Combine(dir, "train.jsonl"));
        File.WriteAllText(Path.Combine(dir, "unrelated.txt"), "mine");
        Directory.CreateDirectory(Path.Combine(dir, "checkpoint-7")); // a trainer-looking entry does not make the rest deletable
        var before = OutputFolder.Entries(dir);

        var result = CliRunner.Run("train", "--config", config, "--overwrite");
        AssertOneLineError(result, $"--overwrite refused: output_dir {dir} holds 'train.jsonl', 'train.yaml', 'unrelated.txt'");
        Assert.Equal(before, OutputFolder.Entries(dir).Where(e => e is not OutputLock.LockFile).ToList());
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "unrelated.txt")));
    }

    [Fact]
    public void Overwrite_deletes_the_previous_run_and_nothing_else()
    {
        var dir = TestPaths.TempDir("overwrite-own");
        var first = new TrainingRun(TrainingFixture.Config(dir, "training.max_steps=2", "checkpoint.every_steps=1"), new TrainOptions(), TextWriter.Null).Run();
        Assert.True(Directory.Exists(Path.Combine(dir, "checkpoint-1")));
        Directory.CreateDirectory(Path.Combine(dir, CheckpointStore.TempPrefix + "9")); // left by a crash
        var log = new StringWriter();
        new TrainingRun(TrainingFixture.Config(dir, "training.max_steps=1"), new TrainOptions { Overwrite = true }, log).Run();
        Assert.Equal([".trainer.lock", "checkpoint-1", "metrics.jsonl", "tensorboard"], OutputFolder.Entries(dir));
        Assert.Single(File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)));
        Assert.Equal(2, first.LastStep);
    }

    [Fact]
    public void A_second_run_on_a_held_folder_fails_at_once_and_a_killed_runs_lock_is_taken_over()
    {
        var dir = TestPaths.TempDir("lock");
        var output = Path.Combine(dir, "out");
        var longRun = WriteConfig(dir, output, training: "batch_size: 4, max_steps: 100000");
        using var holder = StartCli("train", "--config", longRun);
        var holderFile = Path.Combine(output, OutputLock.HolderFile);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(holderFile) && clock.Elapsed < TimeSpan.FromSeconds(60) && !holder.HasExited) Thread.Sleep(50);
        Assert.True(File.Exists(holderFile), "the first run never took the lock");

        var second = CliRunner.Run("train", "--config", WriteConfig(TestPaths.TempDir("lock-b"), output), "--resume");
        AssertOneLineError(second, $"output_dir {output} is in use by another run (pid {holder.Id} on {Environment.MachineName}, started ");

        holder.Kill(); // SIGKILL: no chance to clean up
        holder.WaitForExit();
        Assert.True(File.Exists(holderFile)); // what a killed run leaves behind
        var third = CliRunner.Run("train", "--config", WriteConfig(TestPaths.TempDir("lock-c"), output), "--overwrite");
        Assert.True(third.ExitCode == 0, third.Stderr);
        Assert.Contains($"took over the stale lock on {output} left by pid {holder.Id}", third.Stdout);
        Assert.False(File.Exists(holderFile)); // released at the end of the run
    }

    [Fact]
    public void An_output_dir_that_is_a_file_or_not_writable_is_one_line_and_comes_before_loading()
    {
        var dir = TestPaths.TempDir("bad-output");
        var file = Path.Combine(dir, "taken");
        File.WriteAllText(file, "x");
        // data.train names a missing file: each error below must come first, so nothing was read before it.
        var missing = Path.Combine(dir, "none.jsonl");
        AssertOneLineError(CliRunner.Run("train", "--config", WriteConfig(dir, file, data: missing)), $"output_dir {file} is a file; expected a folder");
        var readOnly = WriteConfig(TestPaths.TempDir("bad-output-ro"), "/sys/trainer-test-output", data: missing); // /sys is read-only, even for root
        AssertOneLineError(CliRunner.Run("train", "--config", readOnly), "output_dir /sys/trainer-test-output cannot be created (");
    }

    [Fact]
    public void A_missing_tokenizer_is_reported_before_the_data_and_the_model_are_read()
    {
        var dir = TestPaths.TempDir("no-tokenizer");
        var model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        File.Copy(Path.Combine(TestPaths.TinyMistral, "config.json"), Path.Combine(model, "config.json")); // no weights, no tokenizer
        var config = WriteConfig(dir, Path.Combine(dir, "out"), model: model, data: Path.Combine(dir, "none.jsonl"));
        AssertOneLineError(CliRunner.Run("train", "--config", config), Path.Combine(model, "tokenizer.model"));
    }

    private static Process StartCli(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "trainer.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
