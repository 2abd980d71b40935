using Trainer.Models.Lora;

namespace Trainer.Config;

/// <summary>
/// Everything <c>trainer train</c> reads, with every default. Built once by <see cref="ConfigLoader"/> (YAML, then
/// <c>--set</c> overrides, then one validation pass); saved, resolved, with each checkpoint.
/// </summary>
public sealed record TrainConfig
{
    public string OutputDir { get; init; } = "checkpoints/run";
    public ModelSection Model { get; init; } = new();
    public LoraSection Lora { get; init; } = new();
    public LossSection Loss { get; init; } = new();
    public DataSection Data { get; init; } = new();
    public TrainingSection Training { get; init; } = new();
    public CheckpointSection Checkpoint { get; init; } = new();
    public EvalSection Eval { get; init; } = new();
}

public sealed record ModelSection
{
    public string Path { get; init; } = "";
    public string DType { get; init; } = "float32";
    public int MaxLength { get; init; } = 512;
    public bool GradientCheckpointing { get; init; }

    /// <summary>The token appended and pooled (<see cref="Text.EmbeddingTokenizer.WithPoolToken"/>); null: the tokenizer's rule.</summary>
    public string? PoolToken { get; init; }
}

public sealed record LoraSection
{
    public int Rank { get; init; } = 16;
    public double Alpha { get; init; } = 32;
    public double Dropout { get; init; } = 0.1;
    public IReadOnlyList<string> TargetModules { get; init; } = LoraSettings.AllProjections;
    public string? InitAdapter { get; init; }
    public string ComputeDtype { get; init; } = "float32";

    public LoraSettings ToSettings() => new(Rank, Alpha, Dropout, TargetModules, InModelDtype: ComputeDtype == "model");
}

public sealed record LossSection
{
    public double Temperature { get; init; } = 0.02;

    /// <summary>False-negative filter: a candidate scoring above the row's positive + this margin (cosine units) leaves the softmax; null = off.</summary>
    public double? FalseNegativeMargin { get; init; }

    /// <summary>Matryoshka: the embedding sizes the loss is summed over, strictly descending, each ≤ the hidden size; null = the full embedding only.</summary>
    public IReadOnlyList<int>? MatryoshkaDims { get; init; }

    /// <summary>One weight per <see cref="MatryoshkaDims"/> entry; null = all 1.</summary>
    public IReadOnlyList<double>? MatryoshkaWeights { get; init; }

    public Losses.InfoNceOptions ToOptions() => new(Temperature, FalseNegativeMargin, MatryoshkaDims, MatryoshkaWeights);
}

public sealed record DataSection
{
    public static readonly string[] BatchingModes = ["mixed", "same_source"];

    /// <summary>The training sources (<c>data.train</c>), in order.</summary>
    public IReadOnlyList<TrainSource> Sources { get; init; } = [];

    /// <summary>The sources' files; setting it makes each a plain source.</summary>
    public IReadOnlyList<string> Train
    {
        get => Sources.Select(s => s.Path).ToList();
        init => Sources = value.Select(path => new TrainSource(path)).ToList();
    }

    public string? DefaultInstruction { get; init; }

    /// <summary>"mixed": batches drawn from all sources' rows together; "same_source": every (global) batch from one source.</summary>
    public string Batching { get; init; } = "mixed";

    /// <summary>Hard negatives each row contributes per step, sampled from its negatives (FlagEmbedding's train_group_size − 1).</summary>
    public int NegativesPerQuery { get; init; } = 1;

    /// <summary>How queries are written (<see cref="Text.QueryTemplate"/>); e5's by default.</summary>
    public string QueryTemplate { get; init; } = Text.QueryTemplate.E5.Template;
    public bool Shuffle { get; init; } = true;
    public bool SkipInvalid { get; init; }
}

public sealed record TrainingSection
{
    public static readonly string[] Schedulers = ["constant", "linear", "cosine"];
    public static readonly string[] NonFiniteActions = ["stop", "skip"];

    public int BatchSize { get; init; } = 8;
    public int? MaxSteps { get; init; }
    public int Epochs { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-4;
    public string LrScheduler { get; init; } = "linear";
    public int WarmupSteps { get; init; }
    public double WeightDecay { get; init; }

    /// <summary>AdamW's β1, β2 and ε; the defaults are PyTorch's and Hugging Face's.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    public double AdamBeta2 { get; init; } = 0.999;

    public double AdamEpsilon { get; init; } = 1e-8;

    public double? MaxGradNorm { get; init; } = 1.0;
    public int Seed { get; init; } = 42;
    public string Device { get; init; } = "cpu";

    /// <summary>One replica per entry (e.g. [cuda:0, cuda:1], or [cpu, cpu]); ["auto"] is every visible GPU. Replaces <see cref="Device"/> when set.</summary>
    public IReadOnlyList<string>? Devices { get; init; }

    /// <summary>GradCache micro-batch in sequences per forward (a row's query, positive and each negative count one each); null = the whole batch at once.</summary>
    public int? MicroBatchSize { get; init; }

    public int LogEverySteps { get; init; } = 1;

    /// <summary>A step whose loss or gradient norm is NaN or Inf: "stop" the run with an error, or "skip" it (no optimizer step; its batch is consumed).</summary>
    public string OnNonFinite { get; init; } = "stop";

    /// <summary>Data parallelism across processes (docs/multi-node.md): auto, mpi, nccl or none; auto is one process unless a launcher started several.</summary>
    public string Distributed { get; init; } = "auto";

    /// <summary>libtorch's CPU threads; null: OMP_NUM_THREADS, else (under a launcher that started several processes) the cores this process may use ÷ the processes on its node, else libtorch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>The replica devices this run uses.</summary>
    public IReadOnlyList<string> ReplicaDevices()
    {
        if (Devices is null) return [Device];
        if (Devices is ["auto"])
        {
            int gpus = TorchSharp.torch.cuda.is_available() ? TorchSharp.torch.cuda.device_count() : 0;
            return gpus == 0 ? ["cpu"] : Enumerable.Range(0, gpus).Select(i => $"cuda:{i}").ToList();
        }
        return Devices;
    }
}

public sealed record CheckpointSection
{
    public int EverySteps { get; init; } = 100;
    public int KeepLast { get; init; } = 3;

    /// <summary>A retrieval measure (<c>ndcg_at_10</c>, ...) whose best checkpoint is kept beside the newest <see cref="KeepLast"/>; null = off.</summary>
    public string? KeepBest { get; init; }
}

/// <summary>
/// Retrieval evaluation during training on a BEIR folder: before the first step of a new run, every
/// <see cref="EverySteps"/> steps, and after the last. Off when <see cref="Data"/> is null.
/// </summary>
public sealed record EvalSection
{
    /// <summary>
    /// The BEIR folder (<c>corpus.jsonl</c>, <c>queries.jsonl</c>, <c>qrels/SPLIT.tsv</c>), or with <see cref="Task"/> the
    /// task's MTEB hub files; null = no evaluation.
    /// </summary>
    public string? Data { get; init; }

    /// <summary>An MTEB task (e5's table: its type and instruction) evaluated on <see cref="Data"/>; null = BEIR retrieval.</summary>
    public string? Task { get; init; }

    /// <summary>The MTEB task type (overrides the task's; with no task, a user's own data of that type); null = the task's.</summary>
    public string? TaskType { get; init; }

    public string Split { get; init; } = "dev";
    public int EverySteps { get; init; } = 100;

    /// <summary>The first N queries of the split (in <c>queries.jsonl</c> order); null = all.</summary>
    public int? MaxQueries { get; init; }

    /// <summary>The queries' instruction; null = <see cref="DataSection.DefaultInstruction"/> (with a task: the task's), "" = none.</summary>
    public string? Instruction { get; init; }

    public int TopK { get; init; } = 100;
    public int BatchSize { get; init; } = 16;

    /// <summary>The instruction queries are formatted with (null = no prefix).</summary>
    public string? QueryInstruction(DataSection data) => Instruction is null ? data.DefaultInstruction : Instruction.Length == 0 ? null : Instruction;

    /// <summary>Whether the evaluation is an MTEB task (<see cref="Task"/> or <see cref="TaskType"/> set).</summary>
    public bool IsMtebTask => Task is not null || TaskType is not null;
}
