using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Tests.Cli;
using Trainer.Tests.Evaluation;
using Trainer.Training;

namespace Trainer.Tests.Checkpointing;

/// <summary>
/// A checkpoint records its base model as an absolute path; moved or copied, it still finds the base at the same place
/// relative to itself, or takes <c>--base-model</c>; when neither resolves, one line names what was tried.
/// </summary>
public class CheckpointBaseModelTests(MovedRun run) : IClassFixture<MovedRun>
{
    private static void AssertClose(float[][] expected, float[][] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Golden.MaxAbsDiff(expected[i], actual[i]) <= tolerance, $"line {i + 1}: {Golden.MaxAbsDiff(expected[i], actual[i])}");
    }

    [Fact]
    public void A_moved_project_tree_finds_its_base_model_relative_to_the_checkpoint_for_embed_and_export()
    {
        Assert.False(Directory.Exists(run.RecordedModel));
        var copy = run.CopyTree();
        var checkpoint = MovedRun.CheckpointIn(copy);
        var log = new StringWriter();
        Assert.Equal(Path.Combine(copy, "models", "tiny"), CheckpointBaseModel.Load(checkpoint, null, log).Model.Path);
        Assert.Equal($"{checkpoint}: base model {run.RecordedModel} not found; using {Path.Combine(copy, "models", "tiny")}, at the same place relative to the checkpoint\n", log.ToString());

        var output = Path.Combine(TestPaths.TempDir("moved-embed"), "out.jsonl");
        AssertClose(run.Reference, MovedRun.Embeddings(new EmbedOptions(Path.Combine(copy, "runs", "out"), run.Input, output)), 0);

        var export = ExportJob.Run(new ExportOptions(checkpoint, ["safetensors"], Path.Combine(TestPaths.TempDir("moved-export"), "export")), TextWriter.Null).OutputDir;
        AssertClose(run.Reference, MovedRun.Embeddings(new EmbedOptions(export, run.Input, output)), 1e-5);
    }

    [Fact]
    public void A_checkpoint_copied_alone_needs_base_model_and_every_command_takes_it()
    {
        var checkpoint = Path.Combine(TestPaths.TempDir("lone-checkpoint"), "best");
        MovedRun.CopyFolder(MovedRun.CheckpointIn(run.Tree), checkpoint, recursive: false);
        var baseModel = Path.Combine(TestPaths.TempDir("lone-base"), "tiny");
        MovedRun.CopyFolder(Path.Combine(run.Tree, "models", "tiny"), baseModel, recursive: false);
        var folder = TestPaths.TempDir("lone-out");
        string Output(string name) => Path.Combine(folder, name);

        // nothing resolves: one line naming the paths tried and the option
        var relative = Path.GetFullPath(Path.Combine(checkpoint, "..", "..", "..", "models", "tiny"));
        var expected = $"error: Base model of checkpoint {checkpoint} not found (model.path in its config.yaml; tried {run.RecordedModel} and {relative}); " +
                       "give the base model folder with --base-model DIR.";
        foreach (var args in new[]
                 {
                     new[] { "embed", "--adapter", checkpoint, "--input", run.Input, "--output", Output("a.jsonl") },
                     ["export", "--checkpoint", checkpoint, "--format", "safetensors", "--output", Output("export-a")],
                 })
        {
            var refused = CliRunner.Run(args);
            Assert.Equal(1, refused.ExitCode);
            Assert.Equal(expected, Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }

        // --base-model: embed (checkpoint as --adapter or as --model), export, eval and mine
        foreach (var (name, args) in new[] { ("adapter", new[] { "--adapter", checkpoint }), ("model", ["--model", checkpoint]) })
        {
            var result = CliRunner.Run(["embed", .. args, "--base-model", baseModel, "--input", run.Input, "--output", Output(name + ".jsonl")]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            AssertClose(run.Reference, MovedRun.ReadEmbeddings(Output(name + ".jsonl")), 0);
        }
        var export = CliRunner.Run("export", "--checkpoint", checkpoint, "--base-model", baseModel, "--format", "safetensors", "--output", Output("export"));
        Assert.True(export.ExitCode == 0, export.Stdout + export.Stderr);
        Assert.Contains($"(base {baseModel},", export.Stdout);
        var eval = CliRunner.Run("eval", "--model", checkpoint, "--base-model", baseModel, "--data", TinyBeir.Write());
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains($"eval: model {baseModel} + adapter {checkpoint}", eval.Stderr);
        var (mineFolder, corpus, train) = MiningFixture.Write();
        var mine = CliRunner.Run("mine", "--adapter", checkpoint, "--base-model", baseModel, "--input", train, "--corpus", corpus, "--output", Path.Combine(mineFolder, "mined.jsonl"));
        Assert.True(mine.ExitCode == 0, mine.Stderr);
        Assert.Contains($"mine: used {baseModel} + adapter {checkpoint}; max_length 24 (from {Path.Combine(checkpoint, "config.yaml")})", mine.Stderr);
    }

    [Fact]
    public void The_path_as_written_wins_and_paths_sharing_no_folder_give_no_relative_guess()
    {
        var copy = run.CopyTree();
        var checkpoint = MovedRun.CheckpointIn(copy);
        var config = ConfigLoader.Load(Path.Combine(checkpoint, CheckpointStore.ConfigFile));
        Assert.Equal(run.RecordedModel, config.Model.Path);

        // both exist: the recorded path is used, silently
        var written = config with { Model = config.Model with { Path = TestPaths.TinyMistral } };
        var log = new StringWriter();
        Assert.Equal(TestPaths.TinyMistral, CheckpointBaseModel.Resolve(checkpoint, written, null, log));
        Assert.Equal("", log.ToString());

        // output_dir and model.path share only the root: no guess
        var elsewhere = config with { Model = config.Model with { Path = "/trainer-no-such-root/models/tiny" } };
        Assert.Null(CheckpointBaseModel.Relative(checkpoint, elsewhere));
        var e = Assert.Throws<DirectoryNotFoundException>(() => CheckpointBaseModel.Resolve(checkpoint, elsewhere, null, log));
        Assert.Contains("(model.path in its config.yaml; tried /trainer-no-such-root/models/tiny); give the base model folder with --base-model DIR.", e.Message);

        // an override must be a model folder
        var notModel = TestPaths.TempDir("not-a-model");
        Assert.Equal($"--base-model {notModel} is not a model folder (no config.json in it).",
            Assert.Throws<DirectoryNotFoundException>(() => CheckpointBaseModel.Resolve(checkpoint, config, notModel, log)).Message);
        Assert.StartsWith($"--base-model names the base model of a checkpoint; --model {TestPaths.TinyMistral} is a model folder",
            Assert.Throws<ArgumentException>(() => ModelSource.Resolve(TestPaths.TinyMistral, checkpoint, TestPaths.TinyMistral, log)).Message);
    }

    [Fact]
    public void Resuming_with_the_model_path_spelled_relative_or_absolute_is_the_same_run()
    {
        var root = TestPaths.TempDir("resume-spelling");
        var model = Path.Combine(root, "models", "tiny");
        MovedRun.CopyFolder(TestPaths.TinyMistral, model, recursive: false);
        var yaml = Path.Combine(root, "train.yaml");
        File.WriteAllText(yaml, $$"""
            output_dir: runs/out
            model: {path: models/tiny, max_length: 24}
            lora: {rank: 4, alpha: 8, dropout: 0.1}
            data: {train: [{{Training.TrainingFixture.DataFile}}], default_instruction: Find the abstract}
            training: {batch_size: 4, max_steps: 4, learning_rate: 0.01, seed: 7}
            checkpoint: {every_steps: 2}
            """);
        new TrainingRun(ConfigLoader.Load(yaml), new TrainOptions { StopAfterSteps = 2 }, TextWriter.Null).Run();

        var copy = Path.Combine(root, "models", "copy");
        MovedRun.CopyFolder(model, copy, recursive: false);
        var refused = Assert.Throws<ConfigException>(() => new TrainingRun(ConfigLoader.Load(yaml, [$"model.path={copy}"]), new TrainOptions { Resume = true }, TextWriter.Null).Run());
        Assert.StartsWith($"Cannot resume from {Path.Combine(root, "runs", "out", "checkpoint-2")}: model.path: {model} → {copy}.", refused.Message);

        // the same folder spelled absolute, with "..", with a trailing separator (as shells complete folder names)
        var spelled = Path.Combine(root, "models", "..", "models", "tiny") + Path.DirectorySeparatorChar;
        var resumed = new TrainingRun(ConfigLoader.Load(yaml, [$"model.path={spelled}"]), new TrainOptions { Resume = true }, TextWriter.Null).Run();
        Assert.Equal((3, 4), (resumed.FirstStep, resumed.LastStep));
    }
}
