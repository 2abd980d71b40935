using System.Net;
using Trainer.Evaluation;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Serving;

/// <summary>
/// What <c>trainer serve --model M</c> serves, resolved exactly as <c>trainer eval --model M</c> resolves it
/// (<see cref="ModelSource"/>): an export or model folder as it is, a checkpoint (or an output_dir's newest valid one) as
/// its adapter on the base model its <c>config.yaml</c> names. The token limit and the queries' default instruction come
/// from the options, else from the export's <c>embedding_config.json</c> or the checkpoint's <c>config.yaml</c>, else 512
/// and none, so a text gets the vector <c>trainer embed</c> gives it with the model's training settings.
/// </summary>
/// <param name="ModelDir">The folder with <c>config.json</c> and <c>tokenizer.model</c> (and the weights, for the torch engine).</param>
/// <param name="AdapterDir">The checkpoint applied as a LoRA adapter, or null.</param>
/// <param name="OnnxPath">The ONNX model for the onnx engine, or null.</param>
/// <param name="Instruction">The queries' default instruction; null: none.</param>
public sealed record ServedModel(string Name, string ModelDir, string? AdapterDir, string? OnnxPath, int MaxInputTokens, string MaxInputTokensFrom,
    string? Instruction, string InstructionFrom)
{
    /// <summary>What <c>--model</c> resolved to: its template, pool token, Matryoshka dims and tokenizer are the model's.</summary>
    public required ModelSource Source { get; init; }

    /// <summary>The address <c>--host</c> names (<see cref="ServeOptions.ListenAddress"/>), resolved once with the options: the server
    /// listens on it, and warns when it is not a loopback address and no API key is set.</summary>
    public required IPAddress ListenAddress { get; init; }

    /// <summary>How queries are written (<see cref="ModelSource.Template"/>).</summary>
    public QueryTemplate Template => Source.Template;

    /// <summary>The Matryoshka dims the model was trained with (<see cref="ModelSource.MatryoshkaDims"/>): the shorter lengths a request's <c>dimensions</c> may ask for.</summary>
    public IReadOnlyList<int>? MatryoshkaDims => Source.MatryoshkaDims;

    public static ServedModel Resolve(ServeOptions options, TextWriter log)
    {
        var listenAddress = options.ListenAddress();
        options.Validate();
        var model = options.Model;
        if (!Directory.Exists(model)) throw new DirectoryNotFoundException($"--model folder not found: {model}");
        if (File.Exists(Path.Combine(model, PeftAdapter.ConfigFile)) && !File.Exists(Path.Combine(model, TrainingState.FileName)))
            throw new InvalidDataException($"--model {model} is a PEFT adapter folder; serve a checkpoint-<step> folder, an output_dir or an export " +
                                           "(trainer export --checkpoint ... --output DIR).");
        var resolved = ModelSource.Resolve(model, null, null, log);
        string? onnxPath = null;
        if (options.Engine == "onnx")
        {
            if (resolved.AdapterDir is not null)
                throw new NotSupportedException($"--engine onnx runs an export's {ExportJob.OnnxFile}, and {model} is a checkpoint; export it first " +
                                                $"(trainer export --checkpoint {model} --format onnx --output DIR) and serve DIR, or use --engine torch.");
            onnxPath = Path.Combine(resolved.ModelDir, ExportJob.OnnxFile);
            if (!File.Exists(onnxPath))
                throw new FileNotFoundException($"--engine onnx: {model} has no {ExportJob.OnnxFile}; export with --format onnx, or use --engine torch.", onnxPath);
        }
        else if (!File.Exists(Path.Combine(resolved.ModelDir, WeightFiles.SingleFile)) && !File.Exists(Path.Combine(resolved.ModelDir, WeightFiles.IndexFile)))
        {
            throw new FileNotFoundException($"--engine torch: {resolved.ModelDir} has no {WeightFiles.SingleFile} (nor {WeightFiles.IndexFile}); " +
                                            (File.Exists(Path.Combine(resolved.ModelDir, ExportJob.OnnxFile))
                                                ? "it is an ONNX export: use --engine onnx, or export with --format safetensors too."
                                                : "give a folder with safetensors weights."));
        }

        var (maxTokens, instruction, _) = resolved.Settings(options.MaxInputTokens, options.Instruction);
        var from = resolved.DefaultsFrom ?? "built-in default";
        var maxFrom = options.MaxInputTokens is not null ? "--max-input-tokens" : resolved.MaxLength is not null ? from : "built-in default";
        var instructionFrom = options.Instruction is not null ? "--instruction" : instruction is not null ? from : "none given";
        if (options.MaxBatchTokens < maxTokens)
            throw new ArgumentException($"--max-batch-tokens = {options.MaxBatchTokens} is less than the input limit of {maxTokens} tokens ({maxFrom}); " +
                                        "a batch must hold at least one input of the longest length.");
        var name = options.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(model)));
        return new ServedModel(name, resolved.ModelDir, resolved.AdapterDir, onnxPath, maxTokens, maxFrom, instruction, instructionFrom) { Source = resolved, ListenAddress = listenAddress };
    }

    /// <summary>The tokenizer of <see cref="ModelDir"/>, checked against its config (<see cref="ModelSource.LoadTokenizer"/>).</summary>
    public EmbeddingTokenizer LoadTokenizer() => Source.LoadTokenizer();

    /// <summary>Loads the weights into the engine the options name.</summary>
    public IEmbeddingEngine LoadEngine(ServeOptions options)
    {
        if (OnnxPath is not null) return new OnnxEngine(OnnxPath, ModelFamilies.Load(Path.Combine(ModelDir, PretrainedLoader.ConfigFile)).Config, options.Threads);
        var device = DTypes.ParseDevice(options.Device, "--device");
        if (options.Threads is { } threads) TorchSharp.torch.set_num_threads(threads); // process-wide: the server is the process
        return new TorchEngine(AdaptedModel.Load(ModelDir, AdapterDir, DTypes.Parse(options.DType, "--dtype"), device), options.Device);
    }
}
