using System.Diagnostics;
using System.Text.Json;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Text;

namespace Trainer.Inference;

/// <summary>Options shared by <c>trainer embed</c> and <c>trainer tokenize</c>.</summary>
public sealed record EmbedOptions(string ModelDir, string InputPath, string OutputPath)
{
    public int MaxLength { get; init; } = 512;
    public int BatchSize { get; init; } = 16;
    public string Device { get; init; } = "cpu";
    public string DType { get; init; } = "float32";

    /// <summary>A PEFT LoRA adapter folder applied on top of the model, or null.</summary>
    public string? AdapterDir { get; init; }

    public void Validate()
    {
        if (MaxLength < 2) throw new ArgumentException($"--max-length = {MaxLength} is invalid; it must be at least 2 (BOS and EOS).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size = {BatchSize} is invalid; it must be at least 1.");
        DTypes.Parse(DType, "--dtype");
    }
}

/// <summary>File-to-file embedding and tokenization: JSONL in, JSONL out, in input order.</summary>
public static class EmbedJob
{
    /// <summary>Writes <c>{"input_ids": [...]}</c> per line: exactly the ids <see cref="Embed"/> feeds the model.</summary>
    public static int Tokenize(EmbedOptions options)
    {
        options.Validate();
        var (_, rows, inputs) = Prepare(options);
        WriteLines(options.OutputPath, inputs, rows.Count, (writer, i) =>
        {
            writer.WriteStartArray("input_ids");
            foreach (var id in rows[i]) writer.WriteNumberValue(id);
            writer.WriteEndArray();
        });
        return rows.Count;
    }

    /// <summary>Writes <c>{"embedding": [...]}</c> per line; progress goes to <paramref name="log"/>.</summary>
    public static int Embed(EmbedOptions options, TextWriter? log = null)
    {
        options.Validate();
        options = options with { AdapterDir = options.AdapterDir is { } a ? Checkpointing.CheckpointStore.Resolve(a, log ?? TextWriter.Null, allowPlainAdapter: true) : null };
        var (config, rows, inputs) = Prepare(options);
        var lora = options.AdapterDir is null ? null : PeftAdapter.ReadSettings(options.AdapterDir);
        using var model = MistralCheckpoint.Load(options.ModelDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"), lora);
        if (options.AdapterDir is not null) PeftAdapter.Load(options.AdapterDir, model);
        var embedder = new TextEmbedder(model, config.EosTokenId, options.BatchSize);
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var vectors = embedder.Embed(rows, done =>
        {
            if (log is null || (clock.Elapsed - lastReport).TotalSeconds < 2 && done < rows.Count) return;
            lastReport = clock.Elapsed;
            log.WriteLine($"embedded {done}/{rows.Count} ({done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F1} seq/s)");
        });
        WriteLines(options.OutputPath, inputs, rows.Count, (writer, i) =>
        {
            writer.WriteStartArray("embedding");
            foreach (var v in vectors[i]) writer.WriteNumberValue(v);
            writer.WriteEndArray();
        });
        return rows.Count;
    }

    private static (MistralConfig Config, List<int[]> Rows, List<EmbedInput> Inputs) Prepare(EmbedOptions options)
    {
        if (!Directory.Exists(options.ModelDir)) throw new DirectoryNotFoundException($"Model folder not found: {options.ModelDir}");
        var config = MistralConfig.Load(Path.Combine(options.ModelDir, MistralCheckpoint.ConfigFile));
        var inputs = EmbedInput.ReadAll(options.InputPath, config.VocabSize);
        EmbeddingTokenizer? tokenizer = inputs.Any(i => i.InputIds is null) ? EmbeddingTokenizer.Load(options.ModelDir, config) : null;
        var rows = inputs.Select(i => i.InputIds ?? tokenizer!.Encode(i.Text!, i.Instruction, options.MaxLength)).ToList();
        return (config, rows, inputs);
    }

    private static void WriteLines(string path, List<EmbedInput> inputs, int count, Action<Utf8JsonWriter, int> body)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using var stream = File.Create(path);
        for (int i = 0; i < count; i++)
        {
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                if (inputs[i].Id is { } id)
                {
                    writer.WritePropertyName("id");
                    id.WriteTo(writer);
                }
                body(writer, i);
                writer.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }
}
