using System.Diagnostics;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Inference;

/// <summary>Options shared by <c>trainer embed</c> and <c>trainer tokenize</c>.</summary>
/// <param name="Model">A model folder, a trainer export, a checkpoint or an output_dir; null with a checkpoint as <see cref="AdapterDir"/> (see <see cref="ModelSource"/>).</param>
public sealed record EmbedOptions(string? Model, string InputPath, string OutputPath)
{
    /// <summary>Token budget including BOS and EOS; null: the checkpoint's or export's (<see cref="ModelSource"/>), else 512.</summary>
    public int? MaxLength { get; init; }

    /// <summary>The instruction of query rows without their own; null: the checkpoint's or export's default; "": none.</summary>
    public string? Instruction { get; init; }

    public int BatchSize { get; init; } = 16;
    public string Device { get; init; } = "cpu";
    public string DType { get; init; } = "float32";

    /// <summary>A PEFT LoRA adapter folder, a checkpoint or an output_dir applied on top of the model, or null.</summary>
    public string? AdapterDir { get; init; }

    /// <summary>The base model of a checkpoint (given as the model or the adapter) whose recorded path does not resolve.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Input lines read, encoded and written per round: what bounds memory, whatever the input's size.</summary>
    public int ChunkLines { get; init; } = 1024;

    public void Validate()
    {
        if (MaxLength < 2) throw new ArgumentException($"--max-length = {MaxLength} is invalid; it must be at least 2 (BOS and EOS).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size = {BatchSize} is invalid; it must be at least 1.");
        if (ChunkLines < 1) throw new ArgumentException($"ChunkLines = {ChunkLines} is invalid; it must be at least 1.");
        if (Instruction is { Length: > 0 } instruction && string.IsNullOrWhiteSpace(instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out (or give \"\") for no instruction.");
        DTypes.Parse(DType, "--dtype");
        JsonlOutput.CheckTarget(OutputPath, InputPath);
    }
}

/// <summary>
/// File-to-file embedding and tokenization: JSONL in, JSONL out, in input order. The model, its adapter and the
/// defaults for max_length and the query instruction are resolved first (<see cref="ModelSource"/>: a checkpoint's
/// training settings or an export's <c>embedding_config.json</c>, unless given), and one log line says which values are
/// used. The input is then checked line by line (a bad line stops the job before any model is loaded), then
/// streamed: each round reads <see cref="EmbedOptions.ChunkLines"/> lines, encodes them and appends them to a
/// temporary file that replaces the output at the end (see <see cref="JsonlOutput"/>). Progress (lines, rate) goes
/// to the log every few seconds.
/// </summary>
public static class EmbedJob
{
    /// <summary>Writes <c>{"input_ids": [...]}</c> per line: exactly the ids <see cref="Embed"/> feeds the model.</summary>
    /// <param name="written">Called after each round with the lines written so far (flushed to the temporary file).</param>
    public static int Tokenize(EmbedOptions options, TextWriter? log = null, Action<int>? written = null)
    {
        var job = Prepare(options, "tokenize", log ?? TextWriter.Null);
        return Stream(options, job, "tokenize", log, written, (output, chunk, rows, _) =>
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
        var job = Prepare(options, "embed", log ?? TextWriter.Null);
        using var model = AdaptedModel.Load(job.Source.ModelDir, job.Source.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"));
        var embedder = new TextEmbedder(model, options.BatchSize);
        return Stream(options, job, "embed", log, written, (output, chunk, rows, progress) =>
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

    /// <summary>What a job runs with: the resolved model, the settings, the input's line count and (when some line has text) the tokenizer.</summary>
    private sealed record Job(ModelSource Source, int MaxLength, string? Instruction, int VocabSize, int Lines, EmbeddingTokenizer? Tokenizer);

    /// <summary>Checks the options, resolves the model and its settings (reported in one line), and checks every input line; loads the tokenizer when some line has text.</summary>
    private static Job Prepare(EmbedOptions options, string verb, TextWriter log)
    {
        options.Validate();
        var source = ModelSource.Resolve(options.Model, options.AdapterDir, options.BaseModel, log);
        var (maxLength, instruction, report) = source.Settings(options.MaxLength, options.Instruction);
        var config = ModelFamilies.Load(Path.Combine(source.ModelDir, PretrainedLoader.ConfigFile)).Config;
        int lines = 0;
        bool anyText = false;
        foreach (var line in EmbedInput.Read(options.InputPath, config.VocabSize))
        {
            lines++;
            anyText |= line.InputIds is null;
        }
        var tokenizer = anyText ? EmbeddingTokenizer.Load(source.ModelDir, config) : null;
        log.WriteLine($"{verb}: {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; {report}"); // after the input check: a bad line stays a one-line error
        return new Job(source, maxLength, instruction, config.VocabSize, lines, tokenizer);
    }

    /// <summary>
    /// The rounds. <paramref name="write"/> gets the output, a chunk of inputs, their ids, and a callback for the lines
    /// of the chunk done so far (progress within a long round).
    /// </summary>
    private static int Stream(EmbedOptions options, Job job, string verb, TextWriter? log, Action<int>? written,
        Action<JsonlOutput, EmbedInput[], List<int[]>, Action<int>> write)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        int done = 0;
        void Report(int lines)
        {
            if (log is null || (clock.Elapsed - lastReport).TotalSeconds < 2) return;
            lastReport = clock.Elapsed;
            double percent = 100.0 * lines / Math.Max(job.Lines, 1), rate = lines / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            log.WriteLine($"{verb}: {lines}/{job.Lines} lines ({percent:F1}%), {rate:F1} lines/s");
        }

        var tokenizer = job.Tokenizer;
        using var output = JsonlOutput.Create(options.OutputPath);
        foreach (var chunk in EmbedInput.Read(options.InputPath, job.VocabSize).Chunk(options.ChunkLines))
        {
            var rows = chunk.Select(i => i.InputIds
                ?? (tokenizer ??= EmbeddingTokenizer.Load(job.Source.ModelDir)).Encode(i.Text!, i.InstructionOr(job.Instruction), job.MaxLength)).ToList();
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
