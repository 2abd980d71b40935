using System.CommandLine;
using Trainer.Inference;

namespace Trainer.Cli;

/// <summary><c>trainer embed</c> and <c>trainer tokenize</c>: the same options and input, ids or vectors out.</summary>
public static class EmbedCommands
{
    public static Command Embed() => Build("embed", "Embed JSONL texts (or input_ids) with a model folder; writes {\"embedding\": [...]} per line.",
        options => EmbedJob.Embed(options, Console.Error));

    public static Command Tokenize() => Build("tokenize", "Write the exact {\"input_ids\": [...]} that embed feeds the model.",
        options => EmbedJob.Tokenize(options, Console.Error));

    private static Command Build(string name, string description, Func<EmbedOptions, int> run)
    {
        var model = new Option<string?>("--model")
        {
            Description = "A Hugging Face model folder (config.json, safetensors, tokenizer.model), a trainer export, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint)",
        };
        var input = new Option<string>("--input") { Description = "JSONL: {\"text\", \"instruction\"? or \"query\": true?} or {\"input_ids\"}, optional \"id\"", Required = true };
        var output = new Option<string>("--output") { Description = "JSONL output, one line per input line", Required = true };
        var maxLength = new Option<int?>("--max-length") { Description = "Token budget including BOS and EOS (default: the checkpoint's model.max_length or the export's max_length, else 512)" };
        var instruction = new Option<string?>("--instruction")
        {
            Description = "Instruction of query rows (\"query\": true) without their own (default: the checkpoint's data.default_instruction or the export's default_instruction; \"\" for none)",
        };
        var baseModel = new Option<string?>("--base-model") { Description = "Base model folder of a checkpoint whose recorded model.path does not resolve (a moved or copied checkpoint)" };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per forward pass", DefaultValueFactory = _ => 16 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "float32, float16 or bfloat16", DefaultValueFactory = _ => "float32" };
        var adapter = new Option<string?>("--adapter")
        {
            Description = "PEFT LoRA adapter to apply to --model: an adapter folder, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint); " +
                          "a checkpoint without --model is applied to its own base model",
        };
        bool embeds = name == "embed"; // tokenize runs no model: the model options would do nothing there
        var command = new Command(name, description) { model, input, output, maxLength, instruction, baseModel };
        foreach (var option in embeds ? new Option[] { batchSize, device, dtype, adapter } : []) command.Options.Add(option);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var options = new EmbedOptions(result.GetValue(model), result.GetValue(input)!, result.GetValue(output)!)
            {
                MaxLength = result.GetValue(maxLength),
                Instruction = result.GetValue(instruction),
                BaseModel = result.GetValue(baseModel),
            };
            if (embeds)
            {
                options = options with
                {
                    BatchSize = result.GetValue(batchSize),
                    Device = result.GetValue(device)!,
                    DType = result.GetValue(dtype)!,
                    AdapterDir = result.GetValue(adapter),
                };
            }
            int count = run(options);
            Console.Error.WriteLine($"{name}: wrote {count} line(s) to {options.OutputPath}");
            return 0;
        }));
        return command;
    }
}
