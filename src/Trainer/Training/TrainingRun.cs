using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using TorchSharp.Modules;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Data;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Parallel;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// The contrastive LoRA recipe, top to bottom: read data, load the base model with adapters, then for each step
/// build the batch, embed [queries; positives; negatives], take InfoNCE, back-propagate into the adapters,
/// clip, set the scheduled learning rate, step AdamW, log, evaluate (when due), checkpoint.
///
/// Across processes (<c>training.distributed</c>, docs/multi-node.md) every rank runs this same loop on the same global
/// batches and takes the same optimizer steps; rank 0 alone prepares output_dir, logs, evaluates and writes checkpoints
/// (the others wait for it at the next collective, and at a barrier around each checkpoint). An exception on any
/// rank ends the whole job (<see cref="ICommunicator.Abort"/>) rather than leaving the others waiting.
/// </summary>
public sealed class TrainingRun
{
    private readonly TrainConfig _config;
    private readonly TrainOptions _options;
    private TextWriter _log;
    private ICommunicator _ranks = SingleProcess.Instance;

    public TrainingRun(TrainConfig config, TrainOptions options, TextWriter log) => (_config, _options, _log) = (config, options, log);

    public TrainSummary Run()
    {
        var t = _config.Training;
        var launcher = Launcher.Detect();
        int? threads = ThreadCount.Resolve(t.Threads, launcher);
        if (threads is int n) set_num_threads(n);
        using var ranks = Distributed.Start(t.Distributed, t.ReplicaDevices(), launcher);
        _ranks = ranks;
        if (ranks.Size == 1) return Run(threads);
        _log = ranks.Rank == 0 ? _log : TextWriter.Null;
        try
        {
            return Run(threads);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error (rank {ranks.Rank} of {ranks.Size}, ending the job): {e.Message}");
            ranks.Abort(1);
            throw;
        }
    }

    private bool IsRankZero => _ranks.Rank == 0;

    private TrainSummary Run(int? threads)
    {
        using var outputLock = IsRankZero ? PrepareOutputFolder() : null;
        var resumeDir = Collectives.BroadcastString(_ranks, IsRankZero ? PrepareOutputDir() : null, 0);
        // Fail fast: the model's config and tokenizer are checked before the data and the weights are read.
        var modelConfig = ModelFamilies.Load(Path.Combine(_config.Model.Path, PretrainedLoader.ConfigFile)).Config;
        ConfigSchema.ValidateMatryoshkaDims(_config.Loss, modelConfig.HiddenSize);
        var tokenizer = EmbeddingTokenizer.Load(_config.Model.Path, modelConfig, _config.Model.PoolToken).WithTemplate(new QueryTemplate(_config.Data.QueryTemplate));
        var t = _config.Training;
        var devices = t.ReplicaDevices();
        if (_ranks.Size > 1 && t.BatchSize < _ranks.Size * devices.Count)
            throw new ConfigException($"training.batch_size = {t.BatchSize} is smaller than the {_ranks.Size * devices.Count} replicas ({_ranks.Size} processes × {devices.Count} device(s)); every replica needs rows.");
        var data = TrainingDataReader.Read(_config.Data.Sources, _config.Data.DefaultInstruction, _config.Data.SkipInvalid);
        var plan = new EpochPlan(data.SourceSizes, _config.Data.Sources.Select(s => s.Weight).ToList(), _config.Data.Batching == "same_source", t.BatchSize, t.Seed, _config.Data.Shuffle);
        int stepsPerEpoch = plan.StepsPerEpoch;
        if (stepsPerEpoch == 0)
            throw new ConfigException(plan.SameSource
                ? $"training.batch_size = {t.BatchSize} is larger than every source's rows per epoch ({string.Join(", ", plan.RowsPerSource)}) with data.batching: same_source."
                : $"training.batch_size = {t.BatchSize} is larger than the {plan.RowsPerSource.Sum()} training rows per epoch ({data.Examples.Count} valid rows).");
        int totalSteps = t.MaxSteps ?? t.Epochs * stepsPerEpoch;
        var schedule = new LearningRateSchedule(t.LrScheduler, t.LearningRate, t.WarmupSteps, totalSteps);
        var dataSha256 = ResumeCheck.HashData(_config.Data.Train);
        if (resumeDir is not null) ResumeCheck.Verify(resumeDir, _config, totalSteps, dataSha256);
        var resumed = resumeDir is null ? null : TrainingState.Load(resumeDir);
        if (resumed is not null && resumed.WorldSize != _ranks.Size) // fail fast, in one line
            throw new InvalidDataException($"Cannot resume from {resumeDir}: it was trained by {resumed.WorldSize} process(es), this run has {_ranks.Size}; resume with the same number of processes.");
        var dropoutStates = resumed?.DropoutRngStates // fail fast: an earlier version's state, before the weights load
            .Select((s, r) => DropoutGenerator.ParseState(s, $"{Path.Combine(resumeDir!, TrainingState.FileName)}: dropout_rng_states[{r}]")).ToList();
        var evaluation = IsRankZero ? TrainingEvaluation.Load(_config, tokenizer, _log) : null; // fail fast: before the weights load

        var lora = _config.Lora.InitAdapter is { } init ? AdapterSettingsFrom(init) : _config.Lora.ToSettings();
        var dtype = DTypes.Parse(_config.Model.DType, "model.dtype");
        using var replicas = new ReplicaSet(devices.Select(d => LoadReplica(DTypes.ParseDevice(d, t.Devices is null ? "training.device" : "training.devices"), dtype, lora)).ToList());
        var model = replicas.Primary;
        InitialiseAdapters(replicas, lora);
        var trainable = model.TrainableParameters().ToList();
        using var optimizer = new AdamW(trainable, t.LearningRate, t.AdamBeta1, t.AdamBeta2, t.AdamEpsilon, t.WeightDecay);
        var contrastive = new ContrastiveStep(replicas, t.MicroBatchSize, _config.Loss.ToOptions(), _options.StepTimer, _ranks);
        _options.StepTimer?.Attach(model);

        // checkpoint.keep_best: the best checkpoint so far (a folder name in output_dir) and its value (higher is better for every measure)
        var (step, elapsedBefore, bestCheckpoint, bestValue) = resumed is null ? (0, 0.0, null, null) : Restore(resumeDir!, resumed, replicas, optimizer, dropoutStates!);
        if (step >= totalSteps)
        {
            _log.WriteLine($"nothing to do: the run is complete at step {step}/{totalSteps} (adapter in {resumeDir})");
            return new TrainSummary(step + 1, step, null, null, 0, resumeDir);
        }

        long total = model.parameters().Sum(p => p.numel()), trainableCount = trainable.Sum(p => p.numel());
        _log.WriteLine($"model {_config.Model.Path}: {total:N0} parameters, {trainableCount:N0} trainable ({100.0 * trainableCount / total:F3}%), LoRA r={lora.Rank} alpha={lora.Alpha} dropout={lora.Dropout}");
        _log.WriteLine($"data: {data.Examples.Count} rows{(data.Skipped > 0 ? $" ({data.Skipped} invalid skipped)" : "")}, {stepsPerEpoch} steps per epoch, {totalSteps} steps");
        if (_config.Data.Sources.Count > 1 || !_config.Data.Sources[0].IsPlain) _log.WriteLine(SourcesLine(plan, data.SourceSizes));
        int k = _config.Data.NegativesPerQuery;
        _log.WriteLine($"contrastive batch: {t.BatchSize} queries per step, each scoring {t.BatchSize} positives + up to {k * t.BatchSize} negatives " +
                       $"(= {(1 + k) * t.BatchSize} candidates with {k} negative{(k == 1 ? "" : "s")} per row); batches {_config.Data.Batching}; micro-batch {(t.MicroBatchSize is int m ? $"{m} sequences per forward (GradCache)" : "off")}; " +
                       $"devices [{string.Join(", ", devices)}] ({replicas.Count} replica(s), {(t.BatchSize + replicas.Count - 1) / replicas.Count} rows each at most); " +
                       $"gradient checkpointing {(_config.Model.GradientCheckpointing ? "on" : "off")}; base dtype {_config.Model.DType}, LoRA/optimizer/loss float32");
        _log.WriteLine(LossLine(_config.Loss, modelConfig.HiddenSize));
        _log.WriteLine(_ranks.Size == 1
            ? $"distributed: {_ranks.Engine}, one process{(threads is int n ? $"; {n} libtorch thread(s)" : "")}"
            : $"distributed: {_ranks.Engine}, world size {_ranks.Size} (ranks 0–{_ranks.Size - 1}, {_ranks.Size * replicas.Count} replicas in all, this rank's first {_ranks.Rank * replicas.Count}); " +
              $"{get_num_threads()} libtorch thread(s) per process; all-gather and all-reduce ms per step and their share of it are logged as comm_*");
        var store = new CheckpointStore(_config.OutputDir);
        using var metrics = IsRankZero ? new MetricsLog(_config.OutputDir, _log, totalSteps, resumedStep: step) : null;
        var clock = Stopwatch.StartNew();
        var eta = new EtaEstimator();
        int firstStep = step + 1, stepsThisRun = 0;
        double? firstLoss = null, lastLoss = null;
        string? lastCheckpoint = null;
        int[][] batches = [];
        int batchesEpoch = -1;
        model.train();
        if (evaluation is not null && step == 0) metrics!.WriteEval(evaluation.Run(model, 0)); // the base model (B = 0), before the first step
        while (step < totalSteps && (_options.StopAfterSteps is not int stop || stepsThisRun < stop))
        {
            int epoch = step / stepsPerEpoch;
            if (epoch != batchesEpoch) (batches, batchesEpoch) = (plan.Batches(epoch), epoch);
            _options.StepTimer?.StepStarted();
            var batch = ContrastiveBatch.Build(data.Examples, batches[step % stepsPerEpoch], t.Seed, epoch, tokenizer, _config.Model.MaxLength, k);
            _options.StepTimer?.Lap(StepPhase.Tokenize);

            var stepClock = Stopwatch.StartNew();
            var commBefore = _ranks.Times.Snapshot();
            double lr = schedule.At(step);
            var (loss, gradNorm, masked) = TrainStep(replicas, contrastive, optimizer, trainable, batch, lr);
            step++;
            stepsThisRun++;
            double seconds = stepClock.Elapsed.TotalSeconds;
            var comm = _ranks.Size == 1 ? ((double, double)?)null : _ranks.Times.Since(commBefore);
            _options.StepTimer?.StepEnded();
            firstLoss ??= loss;
            lastLoss = loss;
            bool finite = double.IsFinite(loss) && double.IsFinite(gradNorm);
            eta.StepEnded(clock.Elapsed.TotalSeconds);

            if (step % t.LogEverySteps == 0 || step == totalSteps || stepsThisRun == 1 || !finite) // the first step of a run is always logged
                metrics?.Write(new StepMetrics(step, epoch, loss, lr, gradNorm, batch.Size / seconds, batch.TokenCount / seconds, elapsedBefore + clock.Elapsed.TotalSeconds,
                    _config.Loss.FalseNegativeMargin is null ? null : masked)
                {
                    Communication = comm is var (gather, reduce) ? new StepCommunication(gather, reduce, (gather + reduce) / (1000 * seconds)) : null,
                }, eta.Remaining(totalSteps - step));
            if (!finite) OnNonFinite(step, loss, gradNorm, lr, trainable);
            EvalMetrics? evaluated = null;
            if (evaluation is not null && evaluation.IsDue(step, totalSteps)) // before the checkpoint, so its state can name the best
                metrics!.WriteEval(evaluated = evaluation.Run(model, step));
            if (step % _config.Checkpoint.EverySteps == 0 || step == totalSteps)
            {
                int nextEpoch = step / stepsPerEpoch, nextIndex = step % stepsPerEpoch * t.BatchSize;
                if (_config.Checkpoint.KeepBest is { } measure && evaluated?.Mean[measure] is double value && double.IsFinite(value) && (bestValue is not double before || value > before))
                    (bestCheckpoint, bestValue) = (CheckpointStore.Prefix + step.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
                lastCheckpoint = SaveCheckpoint(store, replicas, optimizer, new TrainingState
                {
                    Step = step,
                    Epoch = nextEpoch,
                    IndexInEpoch = nextIndex,
                    TotalSteps = totalSteps,
                    LearningRate = lr,
                    Seed = t.Seed,
                    ConfigSha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(_config)))),
                    DataSha256 = dataSha256,
                    ElapsedSeconds = elapsedBefore + clock.Elapsed.TotalSeconds,
                    BestCheckpoint = bestCheckpoint,
                    BestMetric = bestValue,
                });
            }
        }
        if (bestCheckpoint is not null) _log.WriteLine($"best checkpoint: {Path.Combine(_config.OutputDir, bestCheckpoint)} ({_config.Checkpoint.KeepBest} {bestValue:F4})");
        if (data.Skipped > 0) _log.WriteLine($"skipped {data.Skipped} invalid row(s); first: {data.SkipReasons[0]}");
        _log.WriteLine($"done: step {step}/{totalSteps} in {clock.Elapsed.TotalSeconds:F1} s ({stepsThisRun / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F2} steps/s); " +
                       $"peak RSS {Benchmarks.ProcessMemory.Gib(Benchmarks.ProcessMemory.PeakRss())}; adapter in {lastCheckpoint ?? "(no checkpoint written)"}");
        return new TrainSummary(firstStep, step, firstLoss, lastLoss, clock.Elapsed.TotalSeconds, lastCheckpoint);
    }

    /// <summary>The start-up line of the loss: temperature, the false-negative filter and the Matryoshka dims.</summary>
    internal static string LossLine(LossSection loss, int hiddenSize)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string filter = loss.FalseNegativeMargin is double m
            ? string.Create(inv, $"false-negative filter on (a candidate scoring above its row's positive + {m} cosine leaves the softmax; masked_candidates per step in metrics.jsonl)")
            : "false-negative filter off";
        string matryoshka = loss.MatryoshkaDims is { } dims
            ? $"Matryoshka dims [{string.Join(", ", dims)}] of {hiddenSize}, weights [{string.Join(", ", (loss.MatryoshkaWeights ?? dims.Select(_ => 1.0).ToList()).Select(w => w.ToString(inv)))}] (loss = weighted sum)"
            : $"Matryoshka off (full {hiddenSize} dims)";
        return string.Create(inv, $"loss: InfoNCE, temperature {loss.Temperature}; {filter}; {matryoshka}");
    }

    /// <summary>One line naming each source: its valid rows, the rows it gives per epoch at its weight, and (same_source) its full batches.</summary>
    private string SourcesLine(EpochPlan plan, IReadOnlyList<int> sizes) =>
        "sources: " + string.Join("; ", _config.Data.Sources.Select((s, i) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{s.Label} {sizes[i]} rows × weight {s.Weight:G4} = {plan.RowsPerSource[i]} per epoch{(plan.SameSource ? $" = {plan.BatchesPerSource[i]} batches" : "")}" +
            $"{(s.Instruction is null ? "" : ", own instruction")}{(s.Symmetric ? ", symmetric" : "")}")));

    /// <summary>Loads a checkpoint's adapter, optimizer and RNG states; returns the step and elapsed time it had reached, and the best checkpoint it names.</summary>
    private (int Step, double Elapsed, string? BestCheckpoint, double? BestValue) Restore(string dir, TrainingState state, ReplicaSet replicas, AdamW optimizer, List<byte[]> dropoutStates)
    {
        if (state.DropoutRngStates.Count != _ranks.Size * replicas.Count)
            throw new InvalidDataException($"Checkpoint {dir} was written by {state.DropoutRngStates.Count / state.WorldSize} replica(s) per process; this run has {replicas.Count} (training.devices). Resume with the same devices.");
        PeftAdapter.Load(dir, replicas.Primary);
        replicas.Broadcast();
        optimizer.load_state_dict(Path.Combine(dir, CheckpointStore.OptimizerFile));
        for (int r = 0; r < replicas.Count; r++)
            replicas.Models[r].DropoutGenerator.SetState(dropoutStates[_ranks.Rank * replicas.Count + r]);
        _log.WriteLine($"resumed from {dir} at step {state.Step} (epoch {state.Epoch}, index {state.IndexInEpoch})");
        return (state.Step, state.ElapsedSeconds, state.BestCheckpoint, state.BestMetric);
    }

    /// <summary>
    /// One optimizer step over all replicas; returns the batch loss and the gradient norm before clipping. A NaN or
    /// Inf loss or norm takes no optimizer step (gradients zeroed) and leaves the decision to <see cref="OnNonFinite"/>.
    /// The loss and the norm stay on the device until one read brings both to the host, which the finiteness check
    /// needs before the optimizer may step: one read per step, not one per value.
    /// </summary>
    private (double Loss, double GradNorm, int Masked) TrainStep(ReplicaSet replicas, ContrastiveStep contrastive, AdamW optimizer, List<Parameter> trainable, ContrastiveBatch batch, double lr)
    {
        using var scope = NewDisposeScope();
        replicas.ZeroGradients();
        _options.StepTimer?.Lap(StepPhase.ZeroGrad);
        var lossTensor = contrastive.Run(batch, out var maskedTensor);                                // [] on the primary device
        var normTensor = GradientClipping.ClipByGlobalNorm(trainable, _config.Training.MaxGradNorm); // []
        var values = stack([lossTensor.to(ScalarType.Float32), normTensor.to(lossTensor.device), maskedTensor]).cpu().data<float>();
        double loss = values[0], gradNorm = values[1];
        int masked = (int)values[2];
        _options.StepTimer?.Lap(StepPhase.ClipAndRead);
        if (!double.IsFinite(loss) || !double.IsFinite(gradNorm))
        {
            replicas.ZeroGradients();
            return (loss, gradNorm, masked);
        }
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        optimizer.step();
        replicas.Broadcast();
        _options.StepTimer?.Lap(StepPhase.OptimizerStep);
        return (loss, gradNorm, masked);
    }

    /// <summary>training.on_nonfinite: "skip" logs the skipped step and goes on (unless the weights themselves are no longer finite); "stop" throws.</summary>
    private void OnNonFinite(int step, double loss, double gradNorm, double lr, List<Parameter> trainable)
    {
        string what = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"step {step}: non-finite {(double.IsFinite(loss) ? "gradient norm" : "loss")} (loss {loss}, grad_norm {gradNorm}) at learning rate {lr:G4}");
        bool weightsFinite = AllFinite(trainable);
        if (_config.Training.OnNonFinite == "skip" && weightsFinite)
        {
            _log.WriteLine($"warning: {what}; step skipped (training.on_nonfinite: skip): no optimizer step, its batch is consumed");
            return;
        }
        throw new TrainingDivergedException(step, $"Training diverged at {what}{(weightsFinite ? "" : " with non-finite adapter weights")}; the checkpoints before it are intact. " +
            "Lower training.learning_rate (or raise training.warmup_steps) and start a new run, or set training.on_nonfinite: skip and --resume to skip such steps.");
    }

    private static bool AllFinite(List<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        return stack(parameters.Select(p => p.isfinite().all())).all().item<bool>();
    }

    private EmbeddingDecoder LoadReplica(Device device, ScalarType dtype, LoraSettings lora)
    {
        var model = PretrainedLoader.Load(_config.Model.Path, dtype, device, lora);
        model.GradientCheckpointing = _config.Model.GradientCheckpointing;
        return model;
    }

    /// <summary>
    /// Rank 0 writes the checkpoint (atomically, <see cref="CheckpointStore.Save"/>) with every rank's dropout states,
    /// gathered first, once every rank's adapter has been found equal (<see cref="AdapterConsistency"/>); the others
    /// wait at a barrier until it is complete. Returns its folder.
    /// </summary>
    private string SaveCheckpoint(CheckpointStore store, ReplicaSet replicas, AdamW optimizer, TrainingState state)
    {
        AdapterConsistency.Verify(_ranks, replicas.Primary.TrainableParameters(), state.Step);
        var states = Collectives.AllGatherBytes(_ranks, replicas.Models.SelectMany(m => m.DropoutGenerator.GetState()).ToArray())
            .SelectMany(rank => rank.Chunk(DropoutGenerator.StateSize)).Select(Convert.ToBase64String).ToList();
        string dir = Path.Combine(_config.OutputDir, CheckpointStore.Prefix + state.Step.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (IsRankZero)
        {
            dir = store.Save(state.Step, temp =>
            {
                PeftAdapter.Save(temp, replicas.Primary, _config.Model.Path);
                optimizer.save_state_dict(Path.Combine(temp, CheckpointStore.OptimizerFile));
                (state with { DropoutRngStates = states, WorldSize = _ranks.Size }).Save(temp);
                File.WriteAllText(Path.Combine(temp, CheckpointStore.ConfigFile), ConfigLoader.ToYaml(_config));
            });
            store.Prune(_config.Checkpoint.KeepLast, keep: state.BestCheckpoint);
        }
        _ranks.Barrier();
        return dir;
    }

    /// <summary>Seeded PEFT initialisation (or <c>lora.init_adapter</c>) on the primary, copied to every replica; replica r's dropout is seeded with seed + r.</summary>
    private void InitialiseAdapters(ReplicaSet replicas, LoraSettings lora)
    {
        for (int r = 0; r < replicas.Count; r++) replicas.Models[r].DropoutGenerator.ManualSeed(_config.Training.Seed + _ranks.Rank * replicas.Count + r); // the global replica index
        using var generator = new Generator((ulong)_config.Training.Seed);
        foreach (var (_, adapter) in replicas.Primary.Adapters()) adapter.ResetAdapter(generator);
        if (_config.Lora.InitAdapter is { } init) PeftAdapter.Load(init, replicas.Primary);
        replicas.Broadcast();
    }

    private LoraSettings AdapterSettingsFrom(string dir)
    {
        var stored = PeftAdapter.ReadSettings(dir);
        var configured = _config.Lora;
        if (stored.Rank != configured.Rank || stored.Alpha != configured.Alpha)
            _log.WriteLine($"note: lora.init_adapter {dir} has r={stored.Rank}, alpha={stored.Alpha}; these win over the config's lora.rank={configured.Rank}, lora.alpha={configured.Alpha}.");
        return stored with { Dropout = configured.Dropout, InModelDtype = configured.ToSettings().InModelDtype };
    }

    /// <summary>Creates output_dir, checks it can be written and takes its lock (rank 0), before anything is loaded.</summary>
    private OutputLock PrepareOutputFolder()
    {
        OutputFolder.Create(_config.OutputDir, "output_dir");
        OutputFolder.CheckWritable(_config.OutputDir, "output_dir");
        return OutputLock.Acquire(_config.OutputDir, "trainer train", _log);
    }

    /// <summary>
    /// Applies the resume / overwrite rules to output_dir (which exists, and whose lock this run holds); returns the
    /// checkpoint to resume from, if any. <c>--overwrite</c> deletes only the run's own files (<see cref="OutputFolder"/>).
    /// </summary>
    private string? PrepareOutputDir()
    {
        var dir = _config.OutputDir;
        if (_options.ResumeFrom is { } explicitPath)
        {
            var problem = CheckpointStore.Validate(explicitPath);
            if (problem is not null) throw new InvalidDataException($"Cannot resume from {explicitPath}: {problem}.");
            return explicitPath;
        }
        if (_options.Resume)
        {
            var found = new CheckpointStore(dir).NewestValid(_log);
            if (found is null) throw new InvalidDataException($"--resume: no valid checkpoint in {dir}.");
            return found;
        }
        bool nonEmpty = OutputFolder.Entries(dir).Any(e => e is not OutputLock.LockFile and not OutputLock.HolderFile);
        if (nonEmpty && !_options.Overwrite)
            throw new InvalidOperationException($"output_dir {dir} is not empty. Use --resume to continue the run there, or --overwrite to start over (this deletes the run's own files there).");
        if (nonEmpty) OutputFolder.ClearTrainOutput(dir);
        return null;
    }
}
