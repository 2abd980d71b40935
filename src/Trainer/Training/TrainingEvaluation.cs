using System.Diagnostics;
using Trainer.Config;
using Trainer.Evaluation;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Training;

/// <summary>
/// Retrieval evaluation during a run (config <c>eval.*</c>): the BEIR split, read once when the run starts (so a
/// wrong folder or split fails before the weights load), evaluated by <see cref="RetrievalEvaluator"/> on the primary
/// replica before the first step of a new run, every <c>eval.every_steps</c> steps, and after the last step.
/// Evaluation runs inside an <see cref="InferenceScope"/> (eval mode, no graph): it draws no dropout and touches no
/// weight, optimizer state or data cursor, so the run trains exactly as it would without it.
/// </summary>
public sealed class TrainingEvaluation
{
    private readonly EvalSection _eval;
    private readonly BeirDataset _data;
    private readonly EmbeddingTokenizer _tokenizer;
    private readonly RetrievalEvaluationOptions _options;
    private readonly TextWriter _log;

    private TrainingEvaluation(TrainConfig config, BeirDataset data, EmbeddingTokenizer tokenizer, TextWriter log)
    {
        (_eval, _data, _tokenizer, _log) = (config.Eval, data, tokenizer, log);
        _options = new RetrievalEvaluationOptions
        {
            Instruction = config.Eval.QueryInstruction(config.Data),
            MaxLength = config.Model.MaxLength,
            BatchSize = config.Eval.BatchSize,
            TopK = config.Eval.TopK,
            MaxQueries = config.Eval.MaxQueries,
        };
    }

    /// <summary>Reads <c>eval.data</c>'s split; null when <c>eval.data</c> is null (no evaluation).</summary>
    public static TrainingEvaluation? Load(TrainConfig config, EmbeddingTokenizer tokenizer, TextWriter log) =>
        config.Eval.Data is { } folder ? new TrainingEvaluation(config, BeirDataset.Load(folder, config.Eval.Split), tokenizer, log) : null;

    /// <summary>Whether the step just taken is evaluated: every <c>eval.every_steps</c>, and the last.</summary>
    public bool IsDue(int step, int totalSteps) => step % _eval.EverySteps == 0 || step == totalSteps;

    /// <summary>Evaluates <paramref name="model"/> after <paramref name="step"/> steps.</summary>
    public EvalMetrics Run(EmbeddingDecoder model, int step)
    {
        var clock = Stopwatch.StartNew();
        var result = RetrievalEvaluator.Evaluate(model, _tokenizer, _data, _options, _log);
        return new EvalMetrics(step, _data.Split, result.Report.Mean, result.Report.QueryIds.Count, clock.Elapsed.TotalSeconds);
    }
}
