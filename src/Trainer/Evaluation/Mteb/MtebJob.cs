using System.Globalization;
using System.Text;
using Trainer.Inference;
using Trainer.Models;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// <c>trainer eval --task NAME</c> (or <c>--task-type</c>): resolve the task (<see cref="MtebTask.Resolve"/>), read its
/// data (a bad file stops here, before any model loads), load the model, evaluate by the task's type, print the measures,
/// write MTEB's result file when asked, and with <c>--summary DIR</c> print the summary table of every result file there.
/// The task's instruction replaces the model's default one; max_length comes from the options, else the model.
/// </summary>
public static class MtebJob
{
    public static MtebResult Run(EvalOptions options, TextWriter log, TextWriter? table = null)
    {
        options.Validate();
        var task = MtebTask.Resolve(options.Task, options.TaskType is { } t ? MtebTaskTypes.Parse(t, "--task-type") : null, options.Instruction);
        var mteb = new MtebOptions { Seed = options.Seed };
        if (options.SummaryDir is { } summary && !Directory.Exists(summary)) throw new DirectoryNotFoundException($"--summary {summary}: no such folder.");
        var source = ModelSource.Resolve(options.Model, options.Adapter, options.BaseModel, log);
        var (maxLength, _, _) = source.Settings(options.MaxLength, null);
        var data = MtebTaskData.Load(task, options.DataDir, options.Split, mteb);
        log.WriteLine($"eval: task {task.Name} ({MtebTaskTypes.Name(task.Type)}), data {options.DataDir} split {options.Split}, max_length {maxLength}, " +
                      $"instruction {(task.Instruction is null ? "none" : $"\"{task.Instruction}\"")} on {Inputs(task)}, " +
                      $"{(task.Normalize ? "normalised" : "unnormalised")} embeddings");

        var tokenizer = source.LoadTokenizer();
        using var model = AdaptedModel.Load(source.ModelDir, source.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"));
        var encoder = new ModelTextEncoder(model, tokenizer, maxLength, options.BatchSize);
        var retrieval = task.RetrievalOptions(maxLength, options.BatchSize, options.TopK, options.MaxQueries);
        var result = MtebEvaluator.Evaluate(data, encoder, mteb, beir => RetrievalEvaluator.Evaluate(model, tokenizer, beir, retrieval, log).Report.Mean);
        table?.Write(FormatScores(result, options.Split));
        table?.Flush();
        if (options.ResultsPath is { } path)
        {
            MtebResultFile.Write(path, result);
            log.WriteLine($"eval: wrote {path}");
        }
        if (options.SummaryDir is { } folder)
        {
            var rows = Directory.GetFiles(folder, "*.json").OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => MtebResultFile.ReadMain(f, options.Split)).OfType<(string Type, string Task, double MainScore)>()
                .Where(r => r.Task != result.TaskName).ToList();
            rows.Add((MtebTaskTypes.Name(result.Type), result.TaskName, result.MainScore(options.Split)));
            table?.Write(MtebResultFile.SummaryTable(rows));
        }
        return result;
    }

    private static string Inputs(MtebTask task) =>
        task.Type != MtebTaskType.Retrieval ? "every input" : task.InstructDocuments ? "queries and documents" : "queries";

    /// <summary>The split's measures, one per line per subset, the main score first.</summary>
    public static string FormatScores(MtebResult result, string split)
    {
        var text = new StringBuilder();
        foreach (var subset in result.Scores[split])
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{result.TaskName} | {split} | {subset["hf_subset"]} | main_score {(double)subset["main_score"]:F4}");
            foreach (var (key, value) in subset)
                if (value is double d && key != "main_score") text.AppendLine(CultureInfo.InvariantCulture, $"  {key,-28} {d:F4}");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"evaluation_time {result.EvaluationSeconds:F1} s");
        return text.ToString();
    }
}
