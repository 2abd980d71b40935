using System.CommandLine;
using Trainer.Evaluation;
using Trainer.Inference;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer mine --model DIR [--adapter DIR] [--base-model DIR] --input TRAIN --output OUT.jsonl [--corpus corpus.jsonl] [--range 10-100]
/// [--negatives 7] [--seed 42] [--instruction TEXT] [--max-length N] [--batch-size 16] [--device cpu] [--dtype float32]</c>.
/// </summary>
public static class MineCommand
{
    public static Command Build()
    {
        var model = new Option<string?>("--model")
        {
            Description = "A Hugging Face model folder (config.json, safetensors, tokenizer.model), a trainer export, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint)",
        };
        var adapter = new Option<string?>("--adapter")
        {
            Description = "PEFT LoRA adapter to apply to --model: an adapter folder, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint); " +
                          "a checkpoint without --model is applied to its own base model",
        };
        var baseModel = new Option<string?>("--base-model") { Description = "Base model folder of a checkpoint whose recorded model.path does not resolve (a moved or copied checkpoint)" };
        var input = new Option<string>("--input") { Required = true, Description = "Training rows (.jsonl or .parquet: query, positive/pos, negative/neg, instruction)" };
        var corpus = new Option<string?>("--corpus") { Description = "BEIR corpus.jsonl (_id, title, text) to mine from; default: the input rows' positives and negatives" };
        var range = new Option<string>("--range") { DefaultValueFactory = _ => "10-100", Description = "START-END: sample from 1-based ranks START+1..END (FlagEmbedding's range_for_sampling; positives removed first)" };
        var negatives = new Option<int>("--negatives") { DefaultValueFactory = _ => 7, Description = "Negatives per row (all candidates when fewer)" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42, Description = "Seed of the per-row sampling" };
        var instruction = new Option<string?>("--instruction")
        {
            Description = "Query instruction for rows without their own (default: the checkpoint's data.default_instruction or the export's default_instruction; \"\" for none)",
        };
        var maxLength = new Option<int?>("--max-length") { Description = "Token budget including BOS and EOS (default: the checkpoint's model.max_length or the export's max_length, else 512)" };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16, Description = "Sequences per forward pass" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "float32", Description = "float32, float16 or bfloat16" };
        var output = new Option<string>("--output") { Required = true, Description = "FlagEmbedding JSONL (query, pos, neg, instruction), one line per input row" };
        var command = new Command("mine", "Mine hard negatives: rank a corpus for each training query and sample negatives from a rank range.")
        {
            model, adapter, baseModel, input, corpus, range, negatives, seed, instruction, maxLength, batchSize, device, dtype, output,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var (start, end) = MineOptions.ParseRange(r.GetValue(range)!);
            var source = ModelSource.Resolve(r.GetValue(model), r.GetValue(adapter), r.GetValue(baseModel), Console.Error);
            var (length, queryInstruction, report) = source.Settings(r.GetValue(maxLength), r.GetValue(instruction));
            var options = new MineOptions(source.ModelDir, r.GetValue(input)!, r.GetValue(output)!)
            {
                AdapterDir = source.AdapterDir,
                CorpusPath = r.GetValue(corpus),
                RangeStart = start,
                RangeEnd = end,
                Negatives = r.GetValue(negatives),
                Seed = r.GetValue(seed),
                Instruction = queryInstruction,
                MaxLength = length,
                BatchSize = r.GetValue(batchSize),
                Device = r.GetValue(device)!,
                DType = r.GetValue(dtype)!,
            };
            var summary = HardNegativeMiner.Mine(options, Console.Error);
            Console.Error.WriteLine($"mine: used {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; {report}"); // after the run, so that a bad input stays a one-line error
            Console.Error.WriteLine($"mine: wrote {summary.Rows} row(s) to {options.OutputPath}");
            return 0;
        }));
        return command;
    }
}
