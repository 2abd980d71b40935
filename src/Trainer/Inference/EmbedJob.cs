using System.Diagnostics;
using Trainer.Data;
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

    /// <summary>The vector length to write (<c>--dimensions</c>): the full size or a trained Matryoshka dim (<see cref="EmbeddingDimensions"/>); null: full.</summary>
    public int? Dimensions { get; init; }

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
        JsonlOutput.CheckTarget(OutputPath, ("input", InputPath));
    }
}

/// <summary>
/// File-to-file embedding and tokenization: JSONL in, JSONL out, in input order. The model, its adapter and the
/// defaults for max_length and the query instruction are resolved first (<see cref="ModelSource"/>: a checkpoint's
/// training settings or an export's <c>embedding_config.json</c>, unless given), and one log line says which values are
/// used. The input is read once, front to back, so a pipe or <c>-</c> (standard input) works as a file does: each round
/// reads <see cref="EmbedOptions.ChunkLines"/> lines, checks them, encodes them and appends them to the output (see
/// <see cref="JsonlOutput"/>). The first round is read and checked before any model is loaded, so a bad line near the
/// top stops the job at once; a bad line further down stops it there, naming file and line, and a file output is left
/// as it was. An input without a line is refused, and the lines written are checked against the lines read before the
/// output is committed. Progress (lines, rate, and the share of a regular file read) goes to the log every few seconds.
/// </summary>
public static class EmbedJob
{
    /// <summary>Writes <c>{"input_ids": [...]}</c> per line: exactly the ids <see cref="Embed"/> feeds the model.</summary>
    /// <param name="written">Called after each round with the lines written so far (flushed to the output).</param>
    public static int Tokenize(EmbedOptions options, TextWriter? log = null, Action<int>? written = null)
    {
        using var job = Prepare(options, "tokenize", log ?? TextWriter.Null);
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
    /// <param name="written">Called after each round with the lines written so far (flushed to the output).</param>
    public static int Embed(EmbedOptions options, TextWriter? log = null, Action<int>? written = null)
    {
        using var job = Prepare(options, "embed", log ?? TextWriter.Null);
        job.Source.Dimensions().Check(options.Dimensions, "--dimensions"); // before the weights load
        using var model = AdaptedModel.Load(job.Source.ModelDir, job.Source.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"));
        var embedder = new TextEmbedder(model, options.BatchSize);
        return Stream(options, job, "embed", log, written, (output, chunk, rows, progress) =>
        {
            var vectors = EmbeddingDimensions.Truncate(embedder.Embed(rows, progress), options.Dimensions);
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

    /// <summary>
    /// What a job runs with: the resolved model and settings, the open input and its rounds (the first one already read
    /// and checked), and the tokenizer (loaded at once when the first round has text, else when a text comes).
    /// </summary>
    private sealed class Job(ModelSource source, int maxLength, string? instruction, Lazy<EmbeddingTokenizer> tokenizer, Stream input,
        IEnumerator<EmbedInput[]> rounds, EmbedInput[] first) : IDisposable
    {
        public ModelSource Source { get; } = source;
        public int MaxLength { get; } = maxLength;
        public string? Instruction { get; } = instruction;
        public Stream Input { get; } = input;
        public Lazy<EmbeddingTokenizer> Tokenizer { get; } = tokenizer;

        /// <summary>The rounds in order, the first one included.</summary>
        public IEnumerable<EmbedInput[]> Rounds()
        {
            yield return first;
            while (rounds.MoveNext()) yield return rounds.Current;
        }

        public void Dispose()
        {
            rounds.Dispose();
            Input.Dispose();
        }
    }

    /// <summary>Checks the options and the output, resolves the model and its settings (reported in one line), opens the input and reads and checks its first round.</summary>
    private static Job Prepare(EmbedOptions options, string verb, TextWriter log)
    {
        options.Validate();
        var source = ModelSource.Resolve(options.Model, options.AdapterDir, options.BaseModel, log);
        var (maxLength, instruction, report) = source.Settings(options.MaxLength, options.Instruction);
        var config = ModelFamilies.Load(Path.Combine(source.ModelDir, PretrainedLoader.ConfigFile)).Config;
        if (options.InputPath != Utf8Lines.StandardInput && !File.Exists(options.InputPath))
            throw new FileNotFoundException($"Input file not found: {options.InputPath}", options.InputPath);
        var input = Utf8Lines.Open(options.InputPath);
        try
        {
            var rounds = EmbedInput.Read(input, options.InputPath, config.VocabSize).Chunk(options.ChunkLines).GetEnumerator();
            if (!rounds.MoveNext()) throw new InvalidDataException($"{options.InputPath}: no input lines (the input is empty or blank); nothing to {verb}.");
            var job = new Job(source, maxLength, instruction, new(() => source.LoadTokenizer(config)), input, rounds, rounds.Current);
            if (rounds.Current.Any(i => i.InputIds is null)) _ = job.Tokenizer.Value;
            log.WriteLine($"{verb}: {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; {report}"); // after the first round's check: a bad line there stays a one-line error
            return job;
        }
        catch
        {
            input.Dispose();
            throw;
        }
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
        long inputBytes = job.Input.CanSeek ? job.Input.Length : 0;
        int done = 0, read = 0;
        void Report(int lines)
        {
            if (log is null || (clock.Elapsed - lastReport).TotalSeconds < 2) return;
            lastReport = clock.Elapsed;
            double rate = lines / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            string share = inputBytes > 0 ? $" ({100.0 * job.Input.Position / inputBytes:F1}% of the input read)" : "";
            log.WriteLine($"{verb}: {lines} lines{share}, {rate:F1} lines/s");
        }

        using var output = JsonlOutput.Create(options.OutputPath);
        foreach (var chunk in job.Rounds())
        {
            read += chunk.Length;
            var rows = chunk.Select(i => i.InputIds ?? job.Tokenizer.Value.Encode(i.Text!, i.InstructionOr(job.Instruction), job.MaxLength)).ToList();
            write(output, chunk, rows, inChunk => Report(done + inChunk));
            output.Flush();
            done += chunk.Length;
            written?.Invoke(done);
            Report(done);
        }
        if (output.Lines != read)
            throw new InvalidOperationException($"{verb}: read {read} input line(s) but wrote {output.Lines}; the output {options.OutputPath} was not committed.");
        output.Commit();
        return done;
    }
}
