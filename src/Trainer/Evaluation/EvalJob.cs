using System.Text.RegularExpressions;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Evaluation;

/// <summary>
/// <c>trainer eval</c>: resolve the model (<see cref="ModelSource"/>), read the BEIR split (a bad file stops here, before
/// any model is loaded), load the model and its adapter, embed and score with <see cref="RetrievalEvaluator"/>, and
/// print the table, then write <c>results.json</c> and the TREC run when asked (their paths were checked before the model
/// was loaded; a write that fails anyway comes after the table, so the result is not lost). Settings the command leaves open come from the model's
/// training config or export, then from the built-in defaults; each is reported to the log with where it came from.
/// </summary>
public static partial class EvalJob
{
    /// <param name="table">Where the table of measures is printed before any file is written; null: not printed.</param>
    public static RetrievalEvaluation Run(EvalOptions options, TextWriter log, TextWriter? table = null)
    {
        options.Validate();
        var source = ModelSource.Resolve(options.Model, options.Adapter, options.BaseModel, log);
        var (maxLength, instruction, _) = source.Settings(options.MaxLength, options.Instruction);
        string From(bool explicitly) => explicitly ? "given" : source.DefaultsFrom is { } file ? $"from {file}" : "default";
        var settings = new RetrievalEvaluationOptions
        {
            Instruction = instruction,
            MaxLength = maxLength,
            BatchSize = options.BatchSize,
            TopK = options.TopK,
            MaxQueries = options.MaxQueries,
            Dimensions = options.Dimensions,
        };
        source.Dimensions().Check(options.Dimensions, "--dimensions"); // before the data and the weights load
        settings.Validate(); // max_length from a config is checked like a given one

        var data = BeirDataset.Load(options.DataDir, options.Split);
        log.WriteLine($"eval: model {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; data {options.DataDir} split {options.Split}");
        log.WriteLine($"eval: max_length {maxLength} ({From(options.MaxLength is not null)}), " +
                      $"instruction {(instruction is null ? "none" : $"\"{instruction}\"")} ({From(options.Instruction is not null)}), top-k {options.TopK}" +
                      (options.Dimensions is int d ? $", {d} dimensions" : ""));

        var tokenizer = source.LoadTokenizer();
        using var model = AdaptedModel.Load(source.ModelDir, source.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"));
        var evaluation = RetrievalEvaluator.Evaluate(model, tokenizer, data, settings, log);
        table?.Write(EvaluationResults.FormatTable([(evaluation.Split, evaluation.Report)]));
        table?.Flush();

        if (options.ResultsPath is { } results)
        {
            EvaluationResults.WriteJson(results, [(options.Split, evaluation.Report)]);
            log.WriteLine($"eval: wrote {results}");
        }
        if (options.RunPath is { } runPath)
        {
            TrecRunFile.Write(runPath, evaluation.QueryIds, evaluation.Results, RunName(source));
            log.WriteLine($"eval: wrote {runPath} ({evaluation.Results.Sum(r => r.Count)} lines)");
        }
        return evaluation;
    }

    /// <summary>
    /// Scores an existing TREC run (another retriever's, e.g. BM25 from <c>scripts/beir_to_jsonl.py --run</c>) against
    /// the split's qrels with the same metrics; writes <c>results.json</c> when asked.
    /// </summary>
    public static RetrievalReport ScoreRun(string dataDir, string split, string runPath, string? resultsPath, TextWriter log)
    {
        EvalOptions.CheckOutputs(dataDir, split, resultsPath, null, ("--score-run", runPath));
        var qrels = BeirDataset.Load(dataDir, split).Qrels;
        var run = TrecRunFile.Read(runPath);
        var report = RetrievalMetrics.Evaluate(qrels, run);
        log.WriteLine($"eval: scored {runPath} ({run.Count} queries, {report.QueryIds.Count} with judgments) against {dataDir} split {split}");
        if (resultsPath is not null) EvaluationResults.WriteJson(resultsPath, [(split, report)]);
        return report;
    }

    /// <summary>The run's name in the TREC file: the adapter's (else the model's) folder name, white space replaced.</summary>
    private static string RunName(ModelSource source)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source.AdapterDir ?? source.ModelDir)));
        name = WhiteSpace().Replace(name, "_");
        return name.Length == 0 ? "trainer" : name;
    }

    [GeneratedRegex(@"\s")]
    private static partial Regex WhiteSpace();
}
