using System.Globalization;
using System.Text.RegularExpressions;
using Trainer.Inference;
using Trainer.Models;

namespace Trainer.Evaluation;

/// <summary>Options of <c>trainer mine</c> (see <see cref="HardNegativeMiner"/>).</summary>
public sealed record MineOptions(string ModelDir, string InputPath, string OutputPath)
{
    /// <summary>A PEFT adapter folder, a checkpoint-&lt;step&gt; folder or an output_dir (its newest valid checkpoint), or null.</summary>
    public string? AdapterDir { get; init; }

    /// <summary>A BEIR <c>corpus.jsonl</c> to mine from; null mines from the training rows' own positives and negatives.</summary>
    public string? CorpusPath { get; init; }

    /// <summary>
    /// The candidates: FlagEmbedding's <c>range_for_sampling</c> <c>START-END</c>, the Python slice
    /// <c>ranking[START:END]</c>, i.e. 1-based ranks START+1 … END (10-100: ranks 11 to 100, the top 10 skipped).
    /// </summary>
    public int RangeStart { get; init; } = 10;

    public int RangeEnd { get; init; } = 100;

    /// <summary>Negatives sampled per row (all candidates when there are fewer).</summary>
    public int Negatives { get; init; } = 7;

    public int Seed { get; init; } = 42;

    /// <summary>The instruction for rows without their own; null or "" for none.</summary>
    public string? Instruction { get; init; }

    public int MaxLength { get; init; } = 512;

    /// <summary>How queries are written: the checkpoint's or export's template (<see cref="ModelSource.Template"/>), else e5's.</summary>
    public Text.QueryTemplate Template { get; init; } = Text.QueryTemplate.E5;

    /// <summary>The token appended and pooled (<see cref="ModelSource.PoolToken"/>); null: the tokenizer's rule.</summary>
    public string? PoolToken { get; init; }

    public int BatchSize { get; init; } = 16;

    public string Device { get; init; } = "cpu";

    public string DType { get; init; } = "float32";

    /// <summary>Corpus documents tokenized and embedded per round: what bounds the memory of the corpus pass.</summary>
    public int ChunkDocuments { get; init; } = 4096;

    /// <summary>Skip a candidate scoring above the positive's score minus this (sentence-transformers' absolute_margin); null: off.</summary>
    public double? AbsoluteMargin { get; init; }

    /// <summary>Skip a candidate scoring above the positive's score times (1 − this) (sentence-transformers' relative_margin); null: off.</summary>
    public double? RelativeMargin { get; init; }

    /// <summary>Skip a candidate scoring above this (sentence-transformers' max_score); null: off.</summary>
    public double? MaxScore { get; init; }

    /// <summary>The false-negative guards these options set.</summary>
    public FalseNegativeGuard Guard => new(AbsoluteMargin, RelativeMargin, MaxScore);

    /// <summary>Parses <c>START-END</c> (non-negative integers, START &lt; END).</summary>
    public static (int Start, int End) ParseRange(string text)
    {
        var match = Regex.Match(text, "^([0-9]{1,9})-([0-9]{1,9})$");
        if (match.Success)
        {
            int start = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), end = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            if (start < end) return (start, end);
        }
        throw new ArgumentException($"--range {text} is invalid; give START-END with 0 <= START < END, e.g. 10-100 (1-based ranks START+1 to END).");
    }

    public void Validate()
    {
        if (RangeStart < 0 || RangeEnd <= RangeStart)
            throw new ArgumentException($"--range {RangeStart}-{RangeEnd} is invalid; give START-END with 0 <= START < END, e.g. 10-100 (1-based ranks START+1 to END).");
        if (Negatives < 1) throw new ArgumentException($"--negatives = {Negatives} is invalid; it must be at least 1.");
        if (MaxLength < 2) throw new ArgumentException($"--max-length = {MaxLength} is invalid; it must be at least 2 (BOS and EOS).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size = {BatchSize} is invalid; it must be at least 1.");
        if (ChunkDocuments < 1) throw new ArgumentException($"ChunkDocuments = {ChunkDocuments} is invalid; it must be at least 1.");
        Guard.Validate();
        if (Instruction is { Length: > 0 } instruction && string.IsNullOrWhiteSpace(instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out (or give \"\") for no instruction.");
        DTypes.Parse(DType, "--dtype");
        DTypes.ParseDevice(Device, "--device");
        JsonlOutput.CheckTarget(OutputPath, ("input", InputPath), ("corpus", CorpusPath));
    }
}
