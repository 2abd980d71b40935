using System.CommandLine;
using Trainer.Evaluation;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer eval --model DIR [--adapter DIR] [--base-model DIR] --data BEIR_DIR [--split test] [--instruction TEXT] [--top-k 100]
/// [--max-length N] [--batch-size N] [--max-queries N] [--device cpu] [--dtype float32] [--output results.json] [--run run.trec]</c>.
/// </summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var model = new Option<string?>("--model")
        {
            Description = "A model folder (base or trainer export), a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint)",
        };
        var adapter = new Option<string?>("--adapter")
        {
            Description = "PEFT LoRA adapter on top of --model: an adapter folder, a checkpoint-<step>, or an output_dir; a checkpoint without --model is applied to its own base model",
        };
        var baseModel = new Option<string?>("--base-model") { Description = "Base model folder of a checkpoint whose recorded model.path does not resolve (a moved or copied checkpoint)" };
        var data = new Option<string>("--data") { Required = true, Description = "BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv" };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "test", Description = "The qrels file to evaluate (qrels/SPLIT.tsv)" };
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction (default: the checkpoint's data.default_instruction or the export's; \"\" for none)" };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 100, Description = "Documents retrieved per query (the run's depth)" };
        var maxLength = new Option<int?>("--max-length") { Description = "Token budget including BOS and EOS (default: the checkpoint's model.max_length or the export's, else 512)" };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16, Description = "Sequences per forward pass" };
        var maxQueries = new Option<int?>("--max-queries") { Description = "Evaluate only the first N queries of the split" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "float32", Description = "float32, float16 or bfloat16" };
        var output = new Option<string?>("--output") { Description = "results.json to write (mean and per-query measures)" };
        var run = new Option<string?>("--run") { Description = "TREC run file to write (query Q0 doc rank score name)" };
        var scoreRun = new Option<string?>("--score-run") { Description = "Instead of a model: score this TREC run (e.g. BM25's) against the split's qrels" };
        var command = new Command("eval", "Evaluate retrieval on a BEIR dataset: nDCG@10, Recall@100, MRR@10, MAP@100 (trec_eval semantics).")
        {
            model, adapter, baseModel, data, split, instruction, topK, maxLength, batchSize, maxQueries, device, dtype, output, run, scoreRun,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(scoreRun) is { } runFile)
            {
                if (r.GetValue(model) is not null) throw new ArgumentException("give --model or --score-run, not both.");
                var scored = EvalJob.ScoreRun(r.GetValue(data)!, r.GetValue(split)!, runFile, r.GetValue(output), Console.Error);
                Console.Out.Write(EvaluationResults.FormatTable([(r.GetValue(split)!, scored)]));
                return 0;
            }
            if (r.GetValue(model) is null && r.GetValue(adapter) is null) throw new ArgumentException("--model is required (or --score-run to score an existing run).");
            var options = new EvalOptions(r.GetValue(model), r.GetValue(data)!)
            {
                Adapter = r.GetValue(adapter),
                BaseModel = r.GetValue(baseModel),
                Split = r.GetValue(split)!,
                Instruction = r.GetValue(instruction),
                TopK = r.GetValue(topK),
                MaxLength = r.GetValue(maxLength),
                BatchSize = r.GetValue(batchSize),
                MaxQueries = r.GetValue(maxQueries),
                Device = r.GetValue(device)!,
                DType = r.GetValue(dtype)!,
                ResultsPath = r.GetValue(output),
                RunPath = r.GetValue(run),
            };
            var evaluation = EvalJob.Run(options, Console.Error);
            Console.Out.Write(EvaluationResults.FormatTable([(evaluation.Split, evaluation.Report)]));
            return 0;
        }));
        return command;
    }
}
