using Trainer.Checkpointing;
using Trainer.Models;

namespace Trainer.Evaluation;

/// <summary>What <c>trainer eval</c> was asked for. Null settings fall back to the model's (<see cref="Inference.ModelSource"/>), then to the built-in defaults.</summary>
public sealed record EvalOptions(string? Model, string DataDir)
{
    /// <summary>A PEFT adapter folder, a checkpoint or an output_dir applied on top of <see cref="Model"/>; null: none.</summary>
    public string? Adapter { get; init; }

    /// <summary>The base model of a checkpoint given as <see cref="Model"/> or <see cref="Adapter"/>, when its recorded path does not resolve; null: found from the checkpoint.</summary>
    public string? BaseModel { get; init; }

    public string Split { get; init; } = "test";

    /// <summary>The queries' instruction; "" means none even when the model has a default one.</summary>
    public string? Instruction { get; init; }

    public int? MaxLength { get; init; }

    public int TopK { get; init; } = 100;

    public int BatchSize { get; init; } = 16;

    public int? MaxQueries { get; init; }

    /// <summary>Evaluate at this vector length: the full size or a trained Matryoshka dim (<see cref="Inference.EmbeddingDimensions"/>); null: full.</summary>
    public int? Dimensions { get; init; }

    public string Device { get; init; } = "cpu";

    public string DType { get; init; } = "float32";

    /// <summary>results.json to write, or null.</summary>
    public string? ResultsPath { get; init; }

    /// <summary>TREC run file to write, or null.</summary>
    public string? RunPath { get; init; }

    /// <summary>An MTEB task name (<see cref="Mteb.E5TaskTable"/>): evaluates by the task's type instead of BEIR retrieval; null: retrieval.</summary>
    public string? Task { get; init; }

    /// <summary>The MTEB task type (overrides the task's; with no task, names a user's own data).</summary>
    public string? TaskType { get; init; }

    /// <summary>With a task: a folder of MTEB result files whose summary table (by task type) is printed after this task's.</summary>
    public string? SummaryDir { get; init; }

    /// <summary>The seed of classification's samples and clustering's k-means (MTEB's: 42).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Whether this is an MTEB task evaluation (<see cref="Task"/> or <see cref="TaskType"/> given).</summary>
    public bool IsMtebTask => Task is not null || TaskType is not null;

    public void Validate()
    {
        new RetrievalEvaluationOptions { MaxLength = MaxLength ?? Inference.ModelSource.DefaultMaxLength, BatchSize = BatchSize, TopK = TopK, MaxQueries = MaxQueries }.Validate();
        DTypes.Parse(DType, "--dtype");
        DTypes.ParseDevice(Device, "--device");
        if (Split.Length == 0 || Split.IndexOfAny(['/', '\\']) >= 0 || Split is "." or "..")
            throw new ArgumentException($"--split = \"{Split}\" is invalid; it names a file qrels/SPLIT.tsv of the dataset (e.g. test, dev, train).");
        if (IsMtebTask && RunPath is not null) throw new ArgumentException("--run writes a TREC run of BEIR retrieval; it does not apply with --task or --task-type.");
        if (Instruction is { Length: > 0 } && string.IsNullOrWhiteSpace(Instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out for the model's default, or give \"\" for none.");
        CheckOutputs(DataDir, Split, ResultsPath, RunPath);
    }

    /// <summary>
    /// Refuses outputs that cannot be written or would replace an input (the split's corpus, queries or qrels, or
    /// <paramref name="inputs"/>) in any spelling, and two outputs that are one file; checks that each output's folder
    /// is writable. Runs before any model is loaded, so that an hour's evaluation is not lost to a bad path.
    /// </summary>
    public static void CheckOutputs(string dataDir, string split, string? resultsPath, string? runPath, params (string Option, string Path)[] inputs)
    {
        var read = BeirDataset.Files(dataDir, split).Concat(inputs).ToList();
        foreach (var (option, path) in new[] { ("--output", resultsPath), ("--run", runPath) })
        {
            if (path is null) continue;
            OutputTarget.Check(path, option);
            foreach (var (what, input) in read)
            {
                if (FileStat.SameFile(path, input))
                    throw new ArgumentException($"{option} {path} is the {what} file {input}; write to another file.");
            }
        }
        if (resultsPath is not null && runPath is not null
            && (FileStat.SameFile(resultsPath, runPath) || Path.GetFullPath(resultsPath) == Path.GetFullPath(runPath)))
            throw new ArgumentException($"--output and --run are the same file ({resultsPath}); give them different paths.");
    }
}
