using System.Diagnostics;
using Trainer.Config;
using Trainer.Evaluation;
using Trainer.Evaluation.Mteb;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Training;

/// <summary>
/// Evaluation during a run (config <c>eval.*</c>): BEIR retrieval on <c>eval.data</c>'s split, or with <c>eval.task</c>
/// (or <c>eval.task_type</c>) an MTEB task of any type on its hub files (<see cref="MtebEvaluator"/>: the task's
/// instruction unless <c>eval.instruction</c> is set, e5's normalisation rule, MTEB's seed 42). The data is read once
/// when the run starts (so a wrong folder or split fails before the weights load) and evaluated on the primary replica
/// before the first step of a new run, every <c>eval.every_steps</c> steps, and after the last step. Evaluation runs
/// inside an <see cref="InferenceScope"/> (eval mode, no graph): it draws no dropout and touches no weight, optimizer
/// state or data cursor, so the run trains exactly as it would without it.
/// </summary>
public sealed class TrainingEvaluation
{
    private readonly EvalSection _eval;
    private readonly BeirDataset? _data;
    private readonly MtebTaskData? _task;
    private readonly EmbeddingTokenizer _tokenizer;
    private readonly RetrievalEvaluationOptions _options;
    private readonly TextWriter _log;

    private TrainingEvaluation(TrainConfig config, BeirDataset? data, MtebTaskData? task, EmbeddingTokenizer tokenizer, TextWriter log)
    {
        (_eval, _data, _task, _tokenizer, _log) = (config.Eval, data, task, tokenizer, log);
        _options = task?.Task.Type == MtebTaskType.Retrieval
            ? task.Task.RetrievalOptions(config.Model.MaxLength, config.Eval.BatchSize, config.Eval.TopK, config.Eval.MaxQueries)
            : new RetrievalEvaluationOptions
            {
                Instruction = config.Eval.QueryInstruction(config.Data),
                MaxLength = config.Model.MaxLength,
                BatchSize = config.Eval.BatchSize,
                TopK = config.Eval.TopK,
                MaxQueries = config.Eval.MaxQueries,
            };
    }

    /// <summary>Reads <c>eval.data</c>'s split (and with a task, its type's files); null when <c>eval.data</c> is null (no evaluation).</summary>
    public static TrainingEvaluation? Load(TrainConfig config, EmbeddingTokenizer tokenizer, TextWriter log)
    {
        if (config.Eval.Data is not { } folder) return null;
        if (!config.Eval.IsMtebTask) return new TrainingEvaluation(config, BeirDataset.Load(folder, config.Eval.Split), null, tokenizer, log);
        var task = MtebTask.Resolve(config.Eval.Task, config.Eval.TaskType is { } t ? MtebTaskTypes.Parse(t, "eval.task_type") : null, config.Eval.Instruction);
        log.WriteLine($"eval: task {task.Name} ({MtebTaskTypes.Name(task.Type)}), instruction {(task.Instruction is null ? "none" : $"\"{task.Instruction}\"")}");
        return new TrainingEvaluation(config, null, MtebTaskData.Load(task, folder, config.Eval.Split, new MtebOptions()), tokenizer, log);
    }

    /// <summary>Whether the step just taken is evaluated: every <c>eval.every_steps</c>, and the last.</summary>
    public bool IsDue(int step, int totalSteps) => step % _eval.EverySteps == 0 || step == totalSteps;

    /// <summary>Evaluates <paramref name="model"/> after <paramref name="step"/> steps.</summary>
    public EvalMetrics Run(EmbeddingDecoder model, int step)
    {
        var clock = Stopwatch.StartNew();
        if (_task is null)
        {
            var result = RetrievalEvaluator.Evaluate(model, _tokenizer, _data!, _options, _log);
            return new EvalMetrics(step, _data!.Split, result.Report.Mean, result.Report.QueryIds.Count, clock.Elapsed.TotalSeconds);
        }
        var encoder = new ModelTextEncoder(model, _tokenizer, _options.MaxLength, _options.BatchSize);
        int queries = 0;
        var mteb = MtebEvaluator.Evaluate(_task, encoder, new MtebOptions(), beir =>
        {
            var report = RetrievalEvaluator.Evaluate(model, _tokenizer, beir, _options, _log).Report;
            queries = report.QueryIds.Count;
            return report.Mean;
        });
        return new EvalMetrics(step, _task.Split, mteb.Mean(_task.Split), _task.Beir is null ? encoder.Texts : queries, clock.Elapsed.TotalSeconds) { Task = mteb.TaskName };
    }
}
