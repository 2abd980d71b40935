namespace Trainer.Data;

/// <summary>
/// One training row: a query with one or more positives and zero or more hard negatives. Single-valued
/// <c>positive</c>/<c>negative</c> columns give one-element lists; FlagEmbedding-style <c>pos</c>/<c>neg</c> lists keep
/// all of theirs, and each epoch draws one of each (see <see cref="Draw"/>).
/// </summary>
public sealed record TrainingExample(string Query, IReadOnlyList<string> Positives, IReadOnlyList<string> Negatives, string? Instruction, string Source)
{
    /// <summary>The positive and (if any) negative this row contributes in <paramref name="epoch"/>; a pure function of seed, epoch and row.</summary>
    public (string Positive, string? Negative) Draw(int seed, int epoch, int row)
    {
        string positive = Positives.Count == 1 ? Positives[0] : Positives[(int)(DeterministicHash.Mix(seed, epoch, row, 0) % (ulong)Positives.Count)];
        string? negative = Negatives.Count switch
        {
            0 => null,
            1 => Negatives[0],
            _ => Negatives[(int)(DeterministicHash.Mix(seed, epoch, row, 1) % (ulong)Negatives.Count)],
        };
        return (positive, negative);
    }
}
