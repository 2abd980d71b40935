using System.Diagnostics;
using Trainer.Models;
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

    /// <summary>Input lines read, encoded and written per round: what bounds memory, whatever the input's size.</summary>
    public int ChunkLines { get; init; } = 1024;

    public void Validate()
    {
        if (MaxLength < 2) throw new ArgumentException($"--max-length = {MaxLength} is invalid; it must be at least 2 (BOS and EOS).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size = {BatchSize} is invalid; it must be at least 1.");
        if (ChunkLines < 1) throw new ArgumentException($"ChunkLines = {ChunkLines} is invalid; it must be at least 1.");
        DTypes.Parse(DType, "--dtype");
        JsonlOutput.CheckTarget(OutputPath, InputPath);
    }
}

/// <summary>
/// File-to-file embedding and tokenization: JSONL in, JSONL out, in input order. The input is checked line by line
/// first (a bad line stops the job before any model is loaded), then streamed: each round reads
/// <see cref="EmbedOptions.ChunkLines"/> lines, encodes them and appends them to a temporary file that replaces the
/// output at the end (see <see cref="JsonlOutput"/>). Progress (lines, rate) goes to the log every few seconds.
/// </summary>
public static class EmbedJob
{
    /// <summary>Writes <c>{"input_ids": [...]}</c> per line: exactly the ids <see cref="Embed"/> feeds the model.</summary>
    /// <param name="written">Called after each round with the lines written so far (flushed to the temporary file).</param>
    public static int Tokenize(EmbedOptions options, TextWriter? log = null, Action<int>? written = null)
    {
        var (config, input) = Prepare(options);
        return Stream(options, config.VocabSize, input, "tokenize", log, written, (output, chunk, rows, _) =>
        {
            for (int i = 0; i < chunk.Length; i++)
            {
                output.WriteLine(chunk[i].Id, "input_ids", writer =>
                {
                    writer.WriteStartArray();
                    foreach (var id in rows[i]) writer.WriteNumberValue(id);
                    writer.WriteEndArray();
                });
            }
        });
    }

    /// <summary>Writes <c>{"embedding": [...]}</c> per line.</summary>
    /// <param name="written">Called after each round with the lines written so far (flushed to the temporary file).</param>
    public static int Embed(EmbedOptions options, TextWriter? log = null, Action<int>? written = null)
    {
        var (config, input) = Prepare(options);
        options = options with { AdapterDir = options.AdapterDir is { } a ? Checkpointing.CheckpointStore.Resolve(a, log ?? TextWriter.Null, allowPlainAdapter: true) : null };
        using var model = AdaptedModel.Load(options.ModelDir, options.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"));
        var embedder = new TextEmbedder(model, options.BatchSize);
        return Stream(options, config.VocabSize, input, "embed", log, written, (output, chunk, rows, progress) =>
        {
            var vectors = embedder.Embed(rows, progress);
            for (int i = 0; i < chunk.Length; i++)
            {
                output.WriteLine(chunk[i].Id, "embedding", writer =>
                {
                    writer.WriteStartArray();
                    foreach (var v in vectors[i]) writer.WriteNumberValue(v);
                    writer.WriteEndArray();
                });
            }
        });
    }

    /// <summary>Checks the options and every input line; loads the tokenizer when some line has text.</summary>
    private static (IDecoderConfig Config, (int Lines, EmbeddingTokenizer? Tokenizer) Input) Prepare(EmbedOptions options)
    {
        options.Validate();
        if (!Directory.Exists(options.ModelDir)) throw new DirectoryNotFoundException($"Model folder not found: {options.ModelDir}");
        var config = ModelFamilies.Load(Path.Combine(options.ModelDir, PretrainedLoader.ConfigFile)).Config;
        int lines = 0;
        bool anyText = false;
        foreach (var line in EmbedInput.Read(options.InputPath, config.VocabSize))
        {
            lines++;
            anyText |= line.InputIds is null;
        }
        return (config, (lines, anyText ? EmbeddingTokenizer.Load(options.ModelDir, config) : null));
    }

    /// <summary>
    /// The rounds. <paramref name="write"/> gets the output, a chunk of inputs, their ids, and a callback for the lines
    /// of the chunk done so far (progress within a long round).
    /// </summary>
    private static int Stream(EmbedOptions options, int vocabSize, (int Lines, EmbeddingTokenizer? Tokenizer) input, string verb,
        TextWriter? log, Action<int>? written, Action<JsonlOutput, EmbedInput[], List<int[]>, Action<int>> write)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        int done = 0;
        void Report(int lines)
        {
            if (log is null || (clock.Elapsed - lastReport).TotalSeconds < 2) return;
            lastReport = clock.Elapsed;
            double percent = 100.0 * lines / Math.Max(input.Lines, 1), rate = lines / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            log.WriteLine($"{verb}: {lines}/{input.Lines} lines ({percent:F1}%), {rate:F1} lines/s");
        }

        var tokenizer = input.Tokenizer;
        using var output = JsonlOutput.Create(options.OutputPath);
        foreach (var chunk in EmbedInput.Read(options.InputPath, vocabSize).Chunk(options.ChunkLines))
        {
            var rows = chunk.Select(i => i.InputIds
                ?? (tokenizer ??= EmbeddingTokenizer.Load(options.ModelDir)).Encode(i.Text!, i.Instruction, options.MaxLength)).ToList();
            write(output, chunk, rows, inChunk => Report(done + inChunk));
            output.Flush();
            done += chunk.Length;
            written?.Invoke(done);
            Report(done);
        }
        output.Commit();
        return done;
    }
}
