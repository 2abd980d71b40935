using Trainer.Config;

namespace Trainer.Tests.Training;

/// <summary>A small, fast training setup: the tiny Mistral, 24 SciFact rows, short sequences, dropout on.</summary>
public static class TrainingFixture
{
    public static string DataFile { get; } = WriteData();

    public static TrainConfig Config(string outputDir, params string[] overrides) => ConfigLoader.Load(ConfigFile(outputDir), overrides);

    /// <summary>The fixture's YAML, written to a file of its own (for the CLI: <c>--config FILE --set ...</c>).</summary>
    public static string ConfigFile(string outputDir)
    {
        var yaml = $$"""
            output_dir: {{outputDir}}
            model: {path: {{TestPaths.TinyMistral}}, max_length: 24}
            lora: {rank: 4, alpha: 8, dropout: 0.1}
            data: {train: [{{DataFile}}], default_instruction: Find the abstract}
            training: {batch_size: 4, max_steps: 6, learning_rate: 0.01, warmup_steps: 2, seed: 7, log_every_steps: 1}
            checkpoint: {every_steps: 3, keep_last: 5}
            """;
        var path = Path.Combine(TestPaths.TempDir("train-config"), "train.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string WriteData()
    {
        var path = Path.Combine(TestPaths.TempDir("train-data"), "train.jsonl");
        var lines = File.ReadLines(Path.Combine(TestPaths.RepoRoot, "data", "scifact", "train.jsonl")).Take(24).ToList();
        lines[5] = """{"query": "a row without a negative", "positive": "still trains"}""";
        File.WriteAllLines(path, lines);
        return path;
    }
}
