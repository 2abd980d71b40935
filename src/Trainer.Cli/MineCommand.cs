using System.CommandLine;
using Trainer.Evaluation;
using Trainer.Inference;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer mine --model DIR [--adapter DIR] [--base-model DIR] --input TRAIN --output OUT.jsonl [--corpus corpus.jsonl] [--range 10-100]
/// [--negatives 7] [--seed 42] [--absolute-margin X] [--relative-margin X] [--max-score X] [--instruction TEXT] [--max-length N] [--batch-size 16]
/// [--device cpu] [--dtype float32]</c>.
/// </summary>
public static class MineCommand
{
    public static Command Build()
    {
        var shared = new ModelOptions();
        var input = new Option<string>("--input") { Required = true, Description = "Training rows (.jsonl or .parquet: query, positive/pos, negative/neg, instruction)" };
        var corpus = new Option<string?>("--corpus") { Description = "BEIR corpus.jsonl (_id, title, text) to mine from; default: the input rows' positives and negatives" };
        var range = new Option<string>("--range") { DefaultValueFactory = _ => "10-100", Description = "START-END: sample from 1-based ranks START+1..END (FlagEmbedding's range_for_sampling; positives removed first)" };
        var negatives = new Option<int>("--negatives") { DefaultValueFactory = _ => 7, Description = "Negatives per row (all candidates when fewer)" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42, Description = "Seed of the per-row sampling" };
        var absoluteMargin = new Option<double?>("--absolute-margin")
        {
            Description = "Skip candidates scoring above the positive's score minus X (the query's lowest-scoring positive; off by default; skipped candidates are not ranked)",
        };
        var relativeMargin = new Option<double?>("--relative-margin")
        {
            Description = "Skip candidates scoring above the positive's score times (1 - X), e.g. 0.05 (off by default; skipped candidates are not ranked)",
        };
        var maxScore = new Option<double?>("--max-score") { Description = "Skip candidates scoring above X (cosine; off by default; skipped candidates are not ranked)" };
        var instruction = new Option<string?>("--instruction")
        {
            Description = "Query instruction for rows without their own (default: the checkpoint's data.default_instruction or the export's default_instruction; \"\" for none)",
        };
        var output = new Option<string>("--output") { Required = true, Description = "FlagEmbedding JSONL (query, pos, neg, instruction), one line per input row" };
        var command = new Command("mine", "Mine hard negatives: rank a corpus for each training query and sample negatives from a rank range.")
        {
            input, corpus, range, negatives, seed, absoluteMargin, relativeMargin, maxScore, instruction, output,
        };
        shared.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            var (start, end) = MineOptions.ParseRange(r.GetValue(range)!);
            var source = ModelSource.Resolve(r.GetValue(shared.Model), r.GetValue(shared.Adapter), r.GetValue(shared.BaseModel), Console.Error);
            var (length, queryInstruction, report) = source.Settings(r.GetValue(shared.MaxLength), r.GetValue(instruction));
            var options = new MineOptions(source.ModelDir, r.GetValue(input)!, r.GetValue(output)!)
            {
                AdapterDir = source.AdapterDir,
                CorpusPath = r.GetValue(corpus),
                RangeStart = start,
                RangeEnd = end,
                Negatives = r.GetValue(negatives),
                Seed = r.GetValue(seed),
                AbsoluteMargin = r.GetValue(absoluteMargin),
                RelativeMargin = r.GetValue(relativeMargin),
                MaxScore = r.GetValue(maxScore),
                Instruction = queryInstruction,
                MaxLength = length,
                Template = source.Template,
                PoolToken = source.PoolToken,
                BatchSize = r.GetValue(shared.BatchSize),
                Device = r.GetValue(shared.Device)!,
                DType = r.GetValue(shared.DType)!,
            };
            var summary = HardNegativeMiner.Mine(options, Console.Error);
            Console.Error.WriteLine($"mine: used {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; {report}"); // after the run, so that a bad input stays a one-line error
            Console.Error.WriteLine($"mine: wrote {summary.Rows} row(s) to {options.OutputPath}");
            return 0;
        }));
        return command;
    }
}
