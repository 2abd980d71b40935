using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Export;

/// <summary>What <c>trainer export</c> was asked for.</summary>
public sealed record ExportOptions(string Checkpoint, IReadOnlyList<string> Formats, string OutputDir)
{
    public static readonly string[] AllFormats = ["onnx", "safetensors"];
    public static readonly string[] DTypeNames = ["float32", "float16"];

    public string DType { get; init; } = "float32";

    /// <summary>ONNX opset; 17 is the default (ONNX Runtime ≥ 1.14 and onnx.checker accept it).</summary>
    public int Opset { get; init; } = 17;

    public bool ExternalData { get; init; }

    /// <summary>The checkpoint's base model folder, when the path its config.yaml records does not resolve (<see cref="CheckpointBaseModel"/>).</summary>
    public string? BaseModel { get; init; }

    /// <summary>Replace an existing export folder (only one that <c>trainer export</c> wrote: see <see cref="Checkpointing.OutputFolder"/>).</summary>
    public bool Overwrite { get; init; }

    public long ExternalDataThresholdBytes { get; init; } = 1_500_000_000;

    public void Validate()
    {
        if (Formats.Count == 0) throw new ArgumentException($"--format is required; allowed: {string.Join(", ", AllFormats)}.");
        foreach (var f in Formats.Where(f => !AllFormats.Contains(f)))
            throw new ArgumentException($"--format = {f} is invalid; allowed: {string.Join(", ", AllFormats)}.");
        if (!DTypeNames.Contains(DType)) throw new ArgumentException($"--dtype = {DType} is invalid; allowed: {string.Join(", ", DTypeNames)}.");
        if (Opset is < 14 or > 21) throw new ArgumentException($"--opset = {Opset} is invalid; allowed: 14 to 21.");
    }
}

/// <summary>The outcome: where files went and, for ONNX, the parity check.</summary>
public sealed record ExportResult(string OutputDir, OnnxParity? Parity)
{
    public bool Passed => Parity?.Passed ?? true;
}

/// <summary>
/// Checkpoint → merged weights → writers → verification. Reads the checkpoint's PEFT adapter and its resolved
/// config (which names the base model), folds the adapter into the base weights tensor by tensor, and writes a
/// Hugging Face safetensors folder and/or an ONNX model with its serving files. ONNX exports are then run with ONNX
/// Runtime against the TorchSharp model. Everything is written into a staging folder beside the output and renamed
/// into place only when complete and verified, so a killed export never leaves a half-written model where a complete
/// one is expected; a parity failure keeps the staging folder and reports it.
/// </summary>
public static class ExportJob
{
    public const string OnnxFile = "model.onnx";
    public const string OnnxDataFile = "model.onnx_data";
    public const string EmbeddingConfigFile = "embedding_config.json";

    public static ExportResult Run(ExportOptions options, TextWriter log)
    {
        options.Validate();
        var output = Path.GetFullPath(options.OutputDir);
        CheckTarget(output, options.Overwrite);
        var checkpoint = CheckpointStore.Resolve(options.Checkpoint, log);
        var staging = StagingFolder(output);
        try
        {
            var parity = Write(options, checkpoint, staging, log);
            if (parity is { Passed: false })
            {
                log.WriteLine($"warning: the ONNX export does not match the TorchSharp model by the {parity.Rule.Name} rule; {output} was left as it was, and the files are kept in {staging} for inspection.");
                return new ExportResult(staging, parity);
            }
            Publish(staging, output);
            log.WriteLine($"export: complete in {output}");
            return new ExportResult(output, parity);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Writes every file of the export into <paramref name="dir"/> and verifies the ONNX model, if any.</summary>
    private static OnnxParity? Write(ExportOptions options, string checkpoint, string dir, TextWriter log)
    {
        var config = CheckpointBaseModel.Load(checkpoint, options.BaseModel, log); // model.path: the base model found, also for a moved checkpoint
        var dtype = DTypes.Parse(options.DType, "--dtype");
        using var weights = new MergedWeights(config.Model.Path, checkpoint);
        log.WriteLine($"export: {checkpoint} (base {config.Model.Path}, {weights.MergedCount} merged projections) → {dir} as {options.DType}");
        bool onnx = options.Formats.Contains("onnx");
        long bytes = weights.StoredNames.Sum(n => weights.Shape(n).Aggregate(1L, (a, b) => a * b)) * DTypes.ElementSize(dtype);
        bool external = onnx && (options.ExternalData || bytes > options.ExternalDataThresholdBytes);

        File.WriteAllText(Path.Combine(dir, OutputFolder.ExportMarker), $"written by trainer export from {checkpoint}\n");
        WriteConfig(config.Model.Path, dir, options.DType, external);
        var tokenizer = EmbeddingTokenizer.Load(config.Model.Path).WithPoolToken(config.Model.PoolToken);
        WriteEmbeddingConfig(dir, config, tokenizer, options.DType);
        SentenceTransformersFiles.Write(dir, config, weights.Family.Config.HiddenSize);
        if (tokenizer.IsSentencePiece)
        {
            var tokenizerCopy = Path.Combine(dir, EmbeddingTokenizer.ModelFile);
            File.Copy(Path.Combine(config.Model.Path, EmbeddingTokenizer.ModelFile), tokenizerCopy, overwrite: true);
            File.SetAttributes(tokenizerCopy, FileAttributes.Normal); // writable even when the source was read-only
            TokenizerFiles.Write(dir, tokenizerCopy, config.Model.MaxLength);
        }
        else
        {
            TokenizerFiles.Copy(config.Model.Path, dir, tokenizer);
        }

        if (options.Formats.Contains("safetensors"))
        {
            var layout = weights.StoredNames.Select(n => (n, weights.Shape(n), dtype)).ToList();
            WeightFilesWriter.Write(dir, layout, name => weights.Stored(name, dtype));
            log.WriteLine($"safetensors: wrote {layout.Count} tensors to {dir}");
        }

        OnnxParity? parity = null;
        if (onnx)
        {
            var onnxPath = WriteOnnx(weights, dtype, options.Opset, dir, external, tokenizer.EosId);
            log.WriteLine($"memory: peak RSS after writing {Benchmarks.ProcessMemory.Gib(Benchmarks.ProcessMemory.PeakRss())}");
            var mirrored = OnnxFolder.Mirror(dir, external);
            log.WriteLine($"onnx: wrote {onnxPath}{(external ? $" with weights in {OnnxDataFile}" : "")} (opset {options.Opset}), and {OnnxFolder.Name}/ as {mirrored} of it");

            parity = OnnxVerifier.Verify(onnxPath, config.Model.Path, checkpoint, ParityRule.For(dtype), OnnxVerifier.SampleRows(tokenizer, config.Model.MaxLength));
            log.WriteLine($"memory: peak RSS {Benchmarks.ProcessMemory.Gib(Benchmarks.ProcessMemory.PeakRss())} (weights {Benchmarks.ProcessMemory.Gib(bytes)} in {options.DType})");
            log.WriteLine($"onnx parity vs TorchSharp: {parity}");
        }
        ModelCard.Write(dir, new ModelCard.Facts(Path.GetFileName(Path.GetFullPath(options.OutputDir)), checkpoint, config, weights.Family.Config, options, parity));
        return parity;
    }

    /// <summary>Refuses an output that is a file, or a non-empty folder unless <c>--overwrite</c> is given and the folder is an earlier export.</summary>
    private static void CheckTarget(string output, bool overwrite)
    {
        if (File.Exists(output)) throw new InvalidOperationException($"--output {output} is a file; expected a folder (or a path that does not exist yet).");
        if (OutputFolder.Entries(output).Count == 0) return;
        if (!overwrite) throw new InvalidOperationException($"--output {output} is not empty. Use --overwrite to replace an earlier export there, or choose another folder.");
        if (OutputFolder.WhyNotReplaceableExport(output) is { } why)
            throw new InvalidOperationException($"--overwrite refused: {output} cannot be replaced because {why}. The exporter only replaces its own exports.");
    }

    /// <summary>
    /// A fresh folder beside the output (<c>.NAME.tmp-export-PID</c>) that the export is written into; those of earlier
    /// exports whose process has ended (killed mid-export) are removed first.
    /// </summary>
    private static string StagingFolder(string output)
    {
        var parent = Path.GetDirectoryName(output)!;
        var name = Path.GetFileName(output);
        OutputFolder.Create(parent, "--output's parent folder");
        foreach (var stale in Directory.GetDirectories(parent, $".{name}.tmp-export-*"))
            if (int.TryParse(stale[(stale.LastIndexOf('-') + 1)..], out int pid) && OutputFolder.ProcessHasEnded(pid)) Directory.Delete(stale, recursive: true);
        var staging = Path.Combine(parent, $".{name}.tmp-export-{Environment.ProcessId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        OutputFolder.CheckWritable(staging, "--output's parent folder");
        return staging;
    }

    /// <summary>Moves the finished export into place; an earlier export there is moved aside first and deleted after.</summary>
    private static void Publish(string staging, string output)
    {
        string? old = null;
        if (Directory.Exists(output))
        {
            old = staging + ".old";
            Directory.Move(output, old);
        }
        Directory.Move(staging, output);
        if (old is not null) Directory.Delete(old, recursive: true);
    }

    /// <summary>Writes <c>model.onnx</c> (and <c>model.onnx_data</c>); <paramref name="eosId"/> is the tokenizer's EOS, read at each row's last position.</summary>
    public static string WriteOnnx(MergedWeights weights, ScalarType dtype, int opset, string outputDir, bool external, int eosId)
    {
        var onnxPath = Path.Combine(outputDir, OnnxFile);
        var dataPath = Path.Combine(outputDir, OnnxDataFile);
        using (var data = external ? new ExternalDataWriter(dataPath) : null)
        {
            var model = weights.Family switch // each family brings its own exporter
            {
                MistralFamily mistral => new MistralOnnxBuilder(new OnnxGraph(opset, data), weights, mistral.Config, dtype, eosId).Build(),
                var other => throw new NotSupportedException($"ONNX export is not implemented for model_type {other.Config.ModelType}; --format safetensors works for every family."),
            };
            using var stream = File.Create(onnxPath);
            model.WriteTo(stream);
        }
        return onnxPath;
    }

    /// <summary>The base model's config.json with the export's dtype; with external ONNX data, transformers.js is told to fetch it.</summary>
    private static void WriteConfig(string baseDir, string outputDir, string dtype, bool externalOnnxData)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, PretrainedLoader.ConfigFile)))!.AsObject();
        json["torch_dtype"] = dtype;
        if (externalOnnxData) json["transformers.js_config"] = new JsonObject { ["use_external_data_format"] = true };
        File.WriteAllText(Path.Combine(outputDir, PretrainedLoader.ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The serving settings. bos_token_id is the tokenizer's first prefix id (null when it adds none, as Qwen's) and
    /// eos_token_id the token appended and pooled, which may differ from config.json's (Llama 3.1: 128009, not 128001).
    /// </summary>
    private static void WriteEmbeddingConfig(string outputDir, TrainConfig config, EmbeddingTokenizer tokenizer, string dtype)
    {
        var settings = new Dictionary<string, object?>
        {
            ["pooling"] = "last_token",
            ["normalize"] = "l2",
            ["query_template"] = new QueryTemplate(config.Data.QueryTemplate).ServingSpelling,
            ["document_template"] = "{text}",
            ["default_instruction"] = config.Data.DefaultInstruction,
            ["max_length"] = config.Model.MaxLength,
            ["bos_token_id"] = tokenizer.PrefixIds.Count > 0 ? tokenizer.PrefixIds[0] : null,
            ["eos_token_id"] = tokenizer.EosId,
            ["pool_token"] = tokenizer.PoolTokenText,
            ["add_bos"] = tokenizer.PrefixIds.Count > 0,
            ["append_eos"] = true,
            ["truncate_to"] = "max_length - 1 tokens before EOS",
            ["padding_side"] = "right",
            ["inputs"] = new[] { "input_ids", "attention_mask" },
            ["outputs"] = new[] { "last_hidden_state", "sentence_embedding" },
            ["weights_dtype"] = dtype,
            ["matryoshka_dims"] = config.Loss.MatryoshkaDims, // null: trained at the full size only
        };
        File.WriteAllText(Path.Combine(outputDir, EmbeddingConfigFile), JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));
    }
}
