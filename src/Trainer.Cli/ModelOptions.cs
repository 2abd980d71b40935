using System.CommandLine;

namespace Trainer.Cli;

/// <summary>
/// The options that pick a model and run it, defined once for <c>embed</c>, <c>tokenize</c>, <c>eval</c> and
/// <c>mine</c> (one spelling, one default, one help text): <c>--model</c>, <c>--adapter</c>, <c>--base-model</c>,
/// <c>--max-length</c>, <c>--batch-size</c>, <c>--device</c>, <c>--dtype</c>. <see cref="Inference.ModelSource"/>
/// resolves the first three.
/// </summary>
public sealed class ModelOptions
{
    public Option<string?> Model { get; } = new("--model")
    {
        Description = "A Hugging Face model folder (config.json, safetensors, tokenizer.model), a trainer export, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint)",
    };

    public Option<string?> Adapter { get; } = new("--adapter")
    {
        Description = "PEFT LoRA adapter to apply to --model: an adapter folder, a checkpoint-<step> folder, or an output_dir (its newest valid checkpoint); " +
                      "a checkpoint without --model is applied to its own base model",
    };

    public Option<string?> BaseModel { get; } = new("--base-model") { Description = "Base model folder of a checkpoint whose recorded model.path does not resolve (a moved or copied checkpoint)" };

    public Option<int?> MaxLength { get; } = new("--max-length") { Description = "Token budget including BOS and EOS (default: the checkpoint's model.max_length or the export's max_length, else 512)" };

    public Option<int> BatchSize { get; } = new("--batch-size") { DefaultValueFactory = _ => 16, Description = "Sequences per forward pass" };

    public Option<string> Device { get; } = new("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N" };

    public Option<string> DType { get; } = new("--dtype") { DefaultValueFactory = _ => "float32", Description = "float32, float16 or bfloat16" };

    /// <summary>What finds the model and its tokenizer: all <c>tokenize</c> needs, since it runs no model.</summary>
    public IEnumerable<Option> Locating => [Model, BaseModel, MaxLength];

    /// <summary>What runs it.</summary>
    public IEnumerable<Option> Running => [Adapter, BatchSize, Device, DType];

    public void AddTo(Command command, bool running = true)
    {
        foreach (var option in running ? Locating.Concat(Running) : Locating) command.Options.Add(option);
    }
}
