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
        var shared = new ModelOptions();
        var input = new Option<string>("--input") { Description = "JSONL: {\"text\", \"instruction\"? or \"query\": true?} or {\"input_ids\"}, optional \"id\"", Required = true };
        var output = new Option<string>("--output") { Description = "JSONL output, one line per input line", Required = true };
        var instruction = new Option<string?>("--instruction")
        {
            Description = "Instruction of query rows (\"query\": true) without their own (default: the checkpoint's data.default_instruction or the export's default_instruction; \"\" for none)",
        };
        var dimensions = new Option<int?>("--dimensions")
        {
            Description = "Vector length: the model's full size (default) or one of the Matryoshka dims it was trained with (loss.matryoshka_dims); cut and L2-normalised again",
        };
        bool embeds = name == "embed"; // tokenize runs no model: the options that run one would do nothing there
        var command = new Command(name, description) { input, output, instruction };
        if (embeds) command.Options.Add(dimensions);
        shared.AddTo(command, running: embeds);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var options = new EmbedOptions(result.GetValue(shared.Model), result.GetValue(input)!, result.GetValue(output)!)
            {
                MaxLength = result.GetValue(shared.MaxLength),
                Instruction = result.GetValue(instruction),
                BaseModel = result.GetValue(shared.BaseModel),
            };
            if (embeds)
            {
                options = options with
                {
                    BatchSize = result.GetValue(shared.BatchSize),
                    Device = result.GetValue(shared.Device)!,
                    DType = result.GetValue(shared.DType)!,
                    AdapterDir = result.GetValue(shared.Adapter),
                    Dimensions = result.GetValue(dimensions),
                };
            }
            int count = run(options);
            Console.Error.WriteLine($"{name}: wrote {count} line(s) to {options.OutputPath}");
            return 0;
        }));
        return command;
    }
}
