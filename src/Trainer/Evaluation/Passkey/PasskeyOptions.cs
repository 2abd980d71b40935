using System.Globalization;
using Trainer.Checkpointing;
using Trainer.Models;

namespace Trainer.Evaluation.Passkey;

/// <summary>What <c>trainer eval --passkey</c> was asked for.</summary>
/// <param name="Lengths">Document lengths in tokens of the model's tokenizer, special tokens included.</param>
public sealed record PasskeyOptions(string? Model, IReadOnlyList<int> Lengths)
{
    /// <summary>The longest document accepted (tokens): eight times the 4 096 the paper evaluates at most.</summary>
    public const int MaxDocumentLength = 32768;

    public const int MaxCandidates = 1000;

    /// <summary>A PEFT adapter folder, a checkpoint or an output_dir on top of <see cref="Model"/>; null: none.</summary>
    public string? Adapter { get; init; }

    /// <summary>The base model of a checkpoint whose recorded path does not resolve; null: found from the checkpoint.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Documents per length, and queries: one per document.</summary>
    public int Candidates { get; init; } = 100;

    /// <summary>A second evaluation with config.json's rope_theta replaced by this; null: only the model's own.</summary>
    public double? RopeTheta { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>The queries' instruction; null: <see cref="PasskeyText.Instruction"/>; "": none.</summary>
    public string? Instruction { get; init; }

    public int BatchSize { get; init; } = 16;

    public string Device { get; init; } = "cpu";

    public string DType { get; init; } = "float32";

    /// <summary>The JSON report to write, or null.</summary>
    public string? OutputPath { get; init; }

    public void Validate()
    {
        if (Lengths.Count == 0) throw new ArgumentException("--lengths is empty; give document lengths in tokens, e.g. 256,512,1024,2048,4096.");
        foreach (int length in Lengths)
            if (length < 2 || length > MaxDocumentLength)
                throw new ArgumentException($"--lengths {length} is out of range; each length must be in [2, {MaxDocumentLength}] tokens.");
        if (Lengths.Distinct().Count() != Lengths.Count)
            throw new ArgumentException($"--lengths {string.Join(',', Lengths)} names a length twice; give each once.");
        if (Candidates < 2 || Candidates > MaxCandidates)
            throw new ArgumentException($"--candidates {Candidates} is out of range; give 2 to {MaxCandidates} (the paper uses 100).");
        if (RopeTheta is { } theta && (!(theta > 0) || double.IsInfinity(theta)))
            throw new ArgumentException($"--rope-theta {theta.ToString(CultureInfo.InvariantCulture)} is invalid; give a finite number > 0 (the paper raises 10000 to 100000).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size {BatchSize} is invalid; give at least 1.");
        if (Instruction is { Length: > 0 } && string.IsNullOrWhiteSpace(Instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out for the passkey instruction, or give \"\" for none.");
        DTypes.Parse(DType, "--dtype");
        DTypes.ParseDevice(Device, "--device");
        if (OutputPath is not null) OutputTarget.Check(OutputPath, "--output");
    }

    /// <summary>"256,512,1024" → [256, 512, 1024]; a bad item is named.</summary>
    public static int[] ParseLengths(string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var lengths = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
            if (!int.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out lengths[i]))
                throw new ArgumentException($"--lengths {text}: \"{items[i]}\" is not a whole number of tokens; give comma-separated lengths, e.g. 256,512,1024.");
        return lengths;
    }
}
