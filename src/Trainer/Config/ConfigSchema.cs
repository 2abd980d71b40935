using Trainer.Evaluation;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;

namespace Trainer.Config;

/// <summary>Every key <c>trainer train</c> accepts, in the order the resolved config is written.</summary>
public static class ConfigSchema
{
    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        ConfigKey.String("output_dir", c => c.OutputDir, (c, v) => c with { OutputDir = v! }, isPath: true),

        ConfigKey.String("model.path", c => c.Model.Path, (c, v) => c with { Model = c.Model with { Path = v! } }, isPath: true),
        ConfigKey.Choice("model.dtype", DTypes.Names, c => c.Model.DType, (c, v) => c with { Model = c.Model with { DType = v } }),
        ConfigKey.Int("model.max_length", 2, c => c.Model.MaxLength, (c, v) => c with { Model = c.Model with { MaxLength = v!.Value } }),
        ConfigKey.String("model.pool_token", c => c.Model.PoolToken, (c, v) => c with { Model = c.Model with { PoolToken = v } }, nullable: true),
        ConfigKey.Bool("model.gradient_checkpointing", c => c.Model.GradientCheckpointing, (c, v) => c with { Model = c.Model with { GradientCheckpointing = v } }),

        ConfigKey.Int("lora.rank", 1, c => c.Lora.Rank, (c, v) => c with { Lora = c.Lora with { Rank = v!.Value } }),
        ConfigKey.Number("lora.alpha", 0, true, double.PositiveInfinity, c => c.Lora.Alpha, (c, v) => c with { Lora = c.Lora with { Alpha = v!.Value } }),
        ConfigKey.Number("lora.dropout", 0, false, 0.999, c => c.Lora.Dropout, (c, v) => c with { Lora = c.Lora with { Dropout = v!.Value } }),
        ConfigKey.StringList("lora.target_modules", c => c.Lora.TargetModules, (c, v) => c with { Lora = c.Lora with { TargetModules = v! } }),
        ConfigKey.Choice("lora.compute_dtype", LoraSettings.ComputeDtypes, c => c.Lora.ComputeDtype, (c, v) => c with { Lora = c.Lora with { ComputeDtype = v } }),
        ConfigKey.String("lora.init_adapter", c => c.Lora.InitAdapter, (c, v) => c with { Lora = c.Lora with { InitAdapter = v } }, nullable: true, isPath: true),

        ConfigKey.Number("loss.temperature", 0, true, double.PositiveInfinity, c => c.Loss.Temperature, (c, v) => c with { Loss = c.Loss with { Temperature = v!.Value } }),
        ConfigKey.Number("loss.false_negative_margin", 0, false, 2, c => c.Loss.FalseNegativeMargin, (c, v) => c with { Loss = c.Loss with { FalseNegativeMargin = v } }, nullable: true),
        ConfigKey.IntList("loss.matryoshka_dims", 1, c => c.Loss.MatryoshkaDims, (c, v) => c with { Loss = c.Loss with { MatryoshkaDims = v } }, nullable: true),
        ConfigKey.NumberList("loss.matryoshka_weights", 0, c => c.Loss.MatryoshkaWeights, (c, v) => c with { Loss = c.Loss with { MatryoshkaWeights = v } }, nullable: true),

        new ConfigKey("data.train", TrainSource.ParseList, c => c.Data.Sources.All(s => s.IsPlain) ? c.Data.Train : c.Data.Sources.Select(s => s.ToConfigValue()).ToList(),
            (c, v) => c with { Data = c.Data with { Sources = TrainSource.FromConfigValue(v) } }, IsPath: true),
        ConfigKey.String("data.default_instruction", c => c.Data.DefaultInstruction, (c, v) => c with { Data = c.Data with { DefaultInstruction = v } }, nullable: true),
        ConfigKey.String("data.query_template", c => c.Data.QueryTemplate, (c, v) => c with { Data = c.Data with { QueryTemplate = v! } }),
        ConfigKey.Bool("data.shuffle", c => c.Data.Shuffle, (c, v) => c with { Data = c.Data with { Shuffle = v } }),
        ConfigKey.Bool("data.skip_invalid", c => c.Data.SkipInvalid, (c, v) => c with { Data = c.Data with { SkipInvalid = v } }),
        ConfigKey.Choice("data.batching", DataSection.BatchingModes, c => c.Data.Batching, (c, v) => c with { Data = c.Data with { Batching = v } }),
        ConfigKey.Int("data.negatives_per_query", 1, c => c.Data.NegativesPerQuery, (c, v) => c with { Data = c.Data with { NegativesPerQuery = v!.Value } }),

        ConfigKey.Int("training.batch_size", 1, c => c.Training.BatchSize, (c, v) => c with { Training = c.Training with { BatchSize = v!.Value } }),
        ConfigKey.Int("training.max_steps", 1, c => c.Training.MaxSteps, (c, v) => c with { Training = c.Training with { MaxSteps = v } }, nullable: true),
        ConfigKey.Int("training.epochs", 1, c => c.Training.Epochs, (c, v) => c with { Training = c.Training with { Epochs = v!.Value } }),
        ConfigKey.Number("training.learning_rate", 0, true, 1e30, c => c.Training.LearningRate, (c, v) => c with { Training = c.Training with { LearningRate = v!.Value } }),
        ConfigKey.Choice("training.lr_scheduler", TrainingSection.Schedulers, c => c.Training.LrScheduler, (c, v) => c with { Training = c.Training with { LrScheduler = v } }),
        ConfigKey.Int("training.warmup_steps", 0, c => c.Training.WarmupSteps, (c, v) => c with { Training = c.Training with { WarmupSteps = v!.Value } }),
        ConfigKey.Number("training.weight_decay", 0, false, double.PositiveInfinity, c => c.Training.WeightDecay, (c, v) => c with { Training = c.Training with { WeightDecay = v!.Value } }),
        ConfigKey.Number("training.adam_beta1", 0, false, 1, c => c.Training.AdamBeta1, (c, v) => c with { Training = c.Training with { AdamBeta1 = v!.Value } }, maxExclusive: true),
        ConfigKey.Number("training.adam_beta2", 0, false, 1, c => c.Training.AdamBeta2, (c, v) => c with { Training = c.Training with { AdamBeta2 = v!.Value } }, maxExclusive: true),
        ConfigKey.Number("training.adam_epsilon", 0, true, double.PositiveInfinity, c => c.Training.AdamEpsilon, (c, v) => c with { Training = c.Training with { AdamEpsilon = v!.Value } }),
        ConfigKey.Number("training.max_grad_norm", 0, false, double.PositiveInfinity, c => c.Training.MaxGradNorm, (c, v) => c with { Training = c.Training with { MaxGradNorm = v } }, nullable: true),
        ConfigKey.Int("training.seed", 0, c => c.Training.Seed, (c, v) => c with { Training = c.Training with { Seed = v!.Value } }),
        ConfigKey.String("training.device", c => c.Training.Device, (c, v) => c with { Training = c.Training with { Device = v! } }),
        ConfigKey.StringList("training.devices", c => c.Training.Devices, (c, v) => c with { Training = c.Training with { Devices = v } }, nullable: true),
        ConfigKey.Int("training.micro_batch_size", 1, c => c.Training.MicroBatchSize, (c, v) => c with { Training = c.Training with { MicroBatchSize = v } }, nullable: true),
        ConfigKey.Int("training.log_every_steps", 1, c => c.Training.LogEverySteps, (c, v) => c with { Training = c.Training with { LogEverySteps = v!.Value } }),
        ConfigKey.Choice("training.on_nonfinite", TrainingSection.NonFiniteActions, c => c.Training.OnNonFinite, (c, v) => c with { Training = c.Training with { OnNonFinite = v } }),
        ConfigKey.Choice("training.distributed", Parallel.Distributed.Modes, c => c.Training.Distributed, (c, v) => c with { Training = c.Training with { Distributed = v } }),
        ConfigKey.Int("training.threads", 1, c => c.Training.Threads, (c, v) => c with { Training = c.Training with { Threads = v } }, nullable: true),

        ConfigKey.Int("checkpoint.every_steps", 1, c => c.Checkpoint.EverySteps, (c, v) => c with { Checkpoint = c.Checkpoint with { EverySteps = v!.Value } }),
        ConfigKey.Int("checkpoint.keep_last", 1, c => c.Checkpoint.KeepLast, (c, v) => c with { Checkpoint = c.Checkpoint with { KeepLast = v!.Value } }),
        ConfigKey.String("checkpoint.keep_best", c => c.Checkpoint.KeepBest, (c, v) => c with { Checkpoint = c.Checkpoint with { KeepBest = v } }, nullable: true),

        ConfigKey.String("eval.data", c => c.Eval.Data, (c, v) => c with { Eval = c.Eval with { Data = v } }, nullable: true, isPath: true),
        ConfigKey.String("eval.task", c => c.Eval.Task, (c, v) => c with { Eval = c.Eval with { Task = v } }, nullable: true),
        ConfigKey.String("eval.task_type", c => c.Eval.TaskType, (c, v) => c with { Eval = c.Eval with { TaskType = v } }, nullable: true),
        ConfigKey.String("eval.split", c => c.Eval.Split, (c, v) => c with { Eval = c.Eval with { Split = v! } }),
        ConfigKey.Int("eval.every_steps", 1, c => c.Eval.EverySteps, (c, v) => c with { Eval = c.Eval with { EverySteps = v!.Value } }),
        ConfigKey.Int("eval.max_queries", 1, c => c.Eval.MaxQueries, (c, v) => c with { Eval = c.Eval with { MaxQueries = v } }, nullable: true),
        ConfigKey.String("eval.instruction", c => c.Eval.Instruction, (c, v) => c with { Eval = c.Eval with { Instruction = v } }, nullable: true),
        ConfigKey.Int("eval.top_k", 1, c => c.Eval.TopK, (c, v) => c with { Eval = c.Eval with { TopK = v!.Value } }),
        ConfigKey.Int("eval.batch_size", 1, c => c.Eval.BatchSize, (c, v) => c with { Eval = c.Eval with { BatchSize = v!.Value } }),
    ];

    /// <summary>Checks that need more than one key, or the file system.</summary>
    public static void Validate(TrainConfig config)
    {
        if (config.Model.Path.Length == 0) throw new ConfigException("model.path is required: the Hugging Face model folder to train from.");
        if (config.Data.Train.Count == 0) throw new ConfigException("data.train is required: a list of .jsonl or .parquet files.");
        var unknownTargets = config.Lora.TargetModules.Except(LoraSettings.AllProjections).ToList();
        if (unknownTargets.Count > 0)
            throw new ConfigException($"lora.target_modules = [{string.Join(", ", unknownTargets)}] is invalid; allowed: {string.Join(", ", LoraSettings.AllProjections)}.");
        int sequencesPerRow = 2 + config.Data.NegativesPerQuery;
        if (config.Training.MicroBatchSize is int micro && micro > sequencesPerRow * config.Training.BatchSize)
            throw new ConfigException($"training.micro_batch_size = {micro} is invalid; it counts sequences per forward (a row's query, positive and each negative count one each), " +
                                      $"so expected at most {sequencesPerRow} × training.batch_size ({sequencesPerRow * config.Training.BatchSize}).");
        if (config.Training.Devices is { } devices && devices.Contains("auto") && devices.Count > 1)
            throw new ConfigException($"training.devices = [{string.Join(", ", devices)}] is invalid; use [auto] alone, or list devices.");
        // Syntax only: whether CUDA is there is checked when the run starts, so a GPU config can be dry-run anywhere.
        if (!DTypes.IsDeviceName(config.Training.Device))
            throw new ConfigException($"training.device = {config.Training.Device} is invalid; expected cpu, cuda or cuda:N.");
        foreach (var device in config.Training.Devices?.Where(d => d != "auto") ?? [])
            if (!DTypes.IsDeviceName(device)) throw new ConfigException($"training.devices entry {device} is invalid; expected cpu, cuda, cuda:N, or [auto].");
        if (config.Model.PoolToken is "")
            throw new ConfigException("model.pool_token is empty; expected a token of the tokenizer (for example <|endoftext|>), or no value for the tokenizer's own rule.");
        try
        {
            _ = new QueryTemplate(config.Data.QueryTemplate);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"data.query_template is invalid: {e.Message}");
        }
        ValidateKeepBest(config);
        ValidateMatryoshka(config.Loss);
    }

    /// <summary>
    /// loss.matryoshka_dims strictly descending (so no duplicates; the first is the largest), and loss.matryoshka_weights
    /// one per dim and only with dims. That each dim fits the model's hidden size is checked when the model's config is
    /// read (<see cref="ValidateMatryoshkaDims"/>).
    /// </summary>
    private static void ValidateMatryoshka(LossSection loss)
    {
        if (loss.MatryoshkaDims is { } dims)
            for (int i = 1; i < dims.Count; i++)
                if (dims[i] >= dims[i - 1])
                    throw ConfigKey.Invalid("loss.matryoshka_dims", $"[{string.Join(", ", dims)}]", $"strictly descending sizes without duplicates, e.g. [4096, 1024, 256] ({dims[i]} follows {dims[i - 1]})");
        if (loss.MatryoshkaWeights is { } weights)
        {
            if (loss.MatryoshkaDims is null)
                throw ConfigKey.Invalid("loss.matryoshka_weights", Format(weights), "null without loss.matryoshka_dims");
            if (weights.Count != loss.MatryoshkaDims.Count)
                throw ConfigKey.Invalid("loss.matryoshka_weights", Format(weights),
                    $"one weight per loss.matryoshka_dims entry ({loss.MatryoshkaDims.Count} for [{string.Join(", ", loss.MatryoshkaDims)}]), or null for all 1");
        }
    }

    /// <summary>Each loss.matryoshka_dims entry at most the model's hidden size (known once the model's config.json is read).</summary>
    public static void ValidateMatryoshkaDims(LossSection loss, int hiddenSize)
    {
        if (loss.MatryoshkaDims is not { } dims) return;
        var tooLarge = dims.Where(d => d > hiddenSize).ToList();
        if (tooLarge.Count > 0)
            throw ConfigKey.Invalid("loss.matryoshka_dims", $"[{string.Join(", ", dims)}]", $"sizes from 1 to the model's hidden size {hiddenSize} ({string.Join(", ", tooLarge)} too large)");
    }

    private static string Format(IEnumerable<double> values) => $"[{string.Join(", ", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";

    /// <summary>
    /// checkpoint.keep_best names a measure of the evaluation, so it needs eval.data, and an evaluation at every
    /// checkpoint: checkpoint.every_steps a multiple of eval.every_steps (the last step is always both).
    /// </summary>
    /// <summary>The measures an MTEB task's type reports that keep_best may name: its main measure (retrieval: all four).</summary>
    private static IEnumerable<string> MtebMeasures(TrainConfig config)
    {
        var type = Evaluation.Mteb.MtebTask.Resolve(config.Eval.Task, config.Eval.TaskType is { } t ? Evaluation.Mteb.MtebTaskTypes.Parse(t, "eval.task_type") : null, null).Type;
        return type == Evaluation.Mteb.MtebTaskType.Retrieval ? RetrievalMetrics.Reported.Select(m => m.Name) : [Evaluation.Mteb.MtebTaskTypes.MainMetric(type)];
    }

    private static void ValidateKeepBest(TrainConfig config)
    {
        if (config.Eval.IsMtebTask)
        {
            try
            {
                Evaluation.Mteb.MtebTask.Resolve(config.Eval.Task, config.Eval.TaskType is { } t ? Evaluation.Mteb.MtebTaskTypes.Parse(t, "eval.task_type") : null, null);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException(e.Message.Replace("--task-type", "eval.task_type").Replace("--task", "eval.task").Replace("--instruction", "eval.instruction"));
            }
        }
        if (config.Checkpoint.KeepBest is not { } metric) return;
        // an MTEB task keeps the best by its main score (any type) or one of its type's measures; BEIR retrieval by its measures
        List<string> names = config.Eval.IsMtebTask ? ["main_score", .. MtebMeasures(config)] : [.. RetrievalMetrics.Reported.Select(m => m.Name)];
        if (!names.Contains(metric))
            throw ConfigKey.Invalid("checkpoint.keep_best", metric, $"one of {string.Join(", ", names)}, or null");
        if (config.Eval.Data is null)
            throw new ConfigException($"checkpoint.keep_best = {metric} needs eval.data: a BEIR folder to evaluate the checkpoints on.");
        if (config.Checkpoint.EverySteps % config.Eval.EverySteps != 0)
            throw new ConfigException($"checkpoint.keep_best = {metric} needs an evaluation at every checkpoint: checkpoint.every_steps ({config.Checkpoint.EverySteps}) " +
                                      $"must be a multiple of eval.every_steps ({config.Eval.EverySteps}).");
    }
}
