using System.CommandLine;
using Trainer.Checkpointing;
using Trainer.Evaluation;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer eval --model DIR [--adapter DIR] [--base-model DIR] --data BEIR_DIR [--split test] [--instruction TEXT] [--top-k 100]
/// [--max-length N] [--batch-size N] [--max-queries N] [--device cpu] [--dtype float32] [--output results.json] [--run run.trec]</c>;
/// with <c>--passkey</c>, the passkey test instead (<see cref="PasskeyArguments"/>);
/// with <c>--task NAME</c> (or <c>--task-type TYPE</c>) an MTEB task of any type on its hub files, written as MTEB's result file.
/// </summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var shared = new ModelOptions();
        var data = new Option<string?>("--data") { Description = "BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv" };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "test", Description = "The qrels file to evaluate (qrels/SPLIT.tsv)" };
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction (default: the checkpoint's data.default_instruction or the export's; \"\" for none)" };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 100, Description = "Documents retrieved per query (the run's depth)" };
        var maxQueries = new Option<int?>("--max-queries") { Description = "Evaluate only the first N queries of the split" };
        var output = new Option<string?>("--output") { Description = "results.json to write (mean and per-query measures)" };
        var run = new Option<string?>("--run") { Description = "TREC run file to write (query Q0 doc rank score name)" };
        var dimensions = new Option<int?>("--dimensions") { Description = "Evaluate at this vector length: the full size (default) or a Matryoshka dim the model was trained with" };
        var scoreRun = new Option<string?>("--score-run") { Description = "Instead of a model: score this TREC run (e.g. BM25's) against the split's qrels" };
        var task = new Option<string?>("--task") { Description = "An MTEB task (STSBenchmark, Banking77Classification, SciFact, ...): its type and e5's instruction; --data holds its hub files" };
        var taskType = new Option<string?>("--task-type") { Description = "Retrieval, Reranking, STS, PairClassification, Classification, Clustering, Summarization or BitextMining (overrides --task's; alone: your own data)" };
        var summary = new Option<string?>("--summary") { Description = "With --task: a folder of MTEB result files; prints their main scores averaged by task type" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42, Description = "With --task: the seed of classification's samples and clustering's k-means; with --passkey: of the names, passkeys and positions" };
        var command = new Command("eval", "Evaluate retrieval on a BEIR dataset: nDCG@10, Recall@100, MRR@10, MAP@100 (trec_eval semantics).")
        {
            data, split, instruction, topK, maxQueries, output, run, scoreRun, dimensions, task, taskType, summary, seed,
        };
        shared.AddTo(command);
        var passkey = new PasskeyArguments(seed);
        passkey.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(passkey.Passkey)) return passkey.Run(r, shared, instruction, output, [data, split, topK, maxQueries, run, scoreRun, dimensions, task, taskType, summary]);
            passkey.RefuseWithout(r);
            var dataDir = r.GetValue(data) ?? throw new ArgumentException("--data is required: a BEIR folder (or --passkey for the passkey test).");
            if (r.GetValue(scoreRun) is { } runFile)
            {
                if (r.GetValue(shared.Model) is not null) throw new ArgumentException("give --model or --score-run, not both.");
                var ignored = new Option[] { run, topK, instruction, maxQueries, shared.Adapter, shared.MaxLength, dimensions }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false });
                if (ignored is not null)
                    throw new ArgumentException($"{ignored.Name} does not apply to --score-run, which scores the run file as it is; leave {ignored.Name} out.");
                var scored = EvalJob.ScoreRun(dataDir, r.GetValue(split)!, runFile, r.GetValue(output), Console.Error);
                Console.Out.Write(EvaluationResults.FormatTable([(r.GetValue(split)!, scored)]));
                return 0;
            }
            if (r.GetValue(shared.Model) is null && r.GetValue(shared.Adapter) is null) throw new ArgumentException("--model is required (or --score-run to score an existing run).");
            var options = new EvalOptions(r.GetValue(shared.Model), dataDir)
            {
                Adapter = r.GetValue(shared.Adapter),
                BaseModel = r.GetValue(shared.BaseModel),
                Split = r.GetValue(split)!,
                Instruction = r.GetValue(instruction),
                TopK = r.GetValue(topK),
                MaxLength = r.GetValue(shared.MaxLength),
                BatchSize = r.GetValue(shared.BatchSize),
                MaxQueries = r.GetValue(maxQueries),
                Dimensions = r.GetValue(dimensions),
                Device = r.GetValue(shared.Device)!,
                DType = r.GetValue(shared.DType)!,
                ResultsPath = r.GetValue(output),
                RunPath = r.GetValue(run),
                Task = r.GetValue(task),
                TaskType = r.GetValue(taskType),
                SummaryDir = r.GetValue(summary),
                Seed = r.GetValue(seed),
            };
            // an output written to standard output (-) keeps it: the table goes to the log then
            bool stdoutTaken = options.ResultsPath == OutputTarget.StandardOutput || options.RunPath == OutputTarget.StandardOutput;
            if (options.IsMtebTask) Evaluation.Mteb.MtebJob.Run(options, Console.Error, stdoutTaken ? Console.Error : Console.Out);
            else EvalJob.Run(options, Console.Error, stdoutTaken ? Console.Error : Console.Out);
            return 0;
        }));
        return command;
    }
}
