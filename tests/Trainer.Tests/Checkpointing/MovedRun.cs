using Trainer.Inference;
using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Checkpointing;

/// <summary>
/// A project tree (<c>models/tiny</c>, a copy of the tiny Mistral, and <c>runs/out</c>, a 2-step run on it) that was
/// trained in one place and then moved whole, so nothing exists any more at the absolute paths its checkpoint records.
/// The embeddings of <see cref="Input"/> were taken before the move.
/// </summary>
public sealed class MovedRun
{
    public MovedRun()
    {
        var original = TestPaths.TempDir("moved-run");
        RecordedModel = Path.Combine(original, "models", "tiny");
        CopyFolder(TestPaths.TinyMistral, RecordedModel, recursive: false);
        var outputDir = Path.Combine(original, "runs", "out");
        RecordedCheckpoint = new TrainingRun(TrainingFixture.Config(outputDir, $"model.path={RecordedModel}", "training.max_steps=2"), new TrainOptions(), TextWriter.Null)
            .Run().LastCheckpoint!;
        Input = Path.Combine(TestPaths.TempDir("moved-run-input"), "in.jsonl");
        File.WriteAllLines(Input,
        [
            """{"id": "q", "text": "Do vaccines train the immune system to recognise a virus before an infection?", "query": true}""",
            """{"id": "d", "text": "Vaccines expose the immune system to a harmless piece of a pathogen, so that memory cells are ready when it appears."}""",
        ]);
        Reference = Embeddings(new EmbedOptions(outputDir, Input, Input + ".reference"));
        Tree = original + "-moved";
        Directory.Move(original, Tree);
    }

    /// <summary>Where the tree lies now.</summary>
    public string Tree { get; }

    /// <summary>model.path and the checkpoint as config.yaml records them (gone since the move).</summary>
    public string RecordedModel { get; }

    public string RecordedCheckpoint { get; }

    public string Input { get; }

    public float[][] Reference { get; }

    /// <summary>The checkpoint's path inside a copy of the tree.</summary>
    public static string CheckpointIn(string tree) => Path.Combine(tree, "runs", "out", "checkpoint-2");

    /// <summary>A fresh copy of the whole tree.</summary>
    public string CopyTree()
    {
        var copy = Path.Combine(TestPaths.TempDir("moved-run-copy"), "project");
        CopyFolder(Tree, copy, recursive: true);
        return copy;
    }

    public static void CopyFolder(string from, string to, bool recursive)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        if (!recursive) return;
        foreach (var dir in Directory.GetDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)), recursive: true);
    }

    /// <summary>Runs <see cref="EmbedJob.Embed"/> and reads its output back.</summary>
    public static float[][] Embeddings(EmbedOptions options, TextWriter? log = null)
    {
        EmbedJob.Embed(options, log);
        return ReadEmbeddings(options.OutputPath);
    }

    public static float[][] ReadEmbeddings(string path) =>
        File.ReadAllLines(path).Select(l => Golden.Floats(System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("embedding"))).ToArray();
}
