namespace Trainer.Data;

/// <summary>
/// One training row: a query with one or more positives and zero or more hard negatives. Single-valued
/// <c>positive</c>/<c>negative</c> columns give one-element lists; FlagEmbedding-style <c>pos</c>/<c>neg</c> lists keep
/// all of theirs, and each epoch draws one positive and k negatives (see <see cref="Draw"/>, <see cref="DrawNegatives"/>).
/// With <see cref="Symmetric"/> the documents are written with the row's instruction too (a source with
/// <c>symmetric: true</c>).
/// </summary>
public sealed record TrainingExample(string Query, IReadOnlyList<string> Positives, IReadOnlyList<string> Negatives, string? Instruction, string Source,
    bool Symmetric = false)
{
    /// <summary>The positive and (if any) negative this row contributes in <paramref name="epoch"/>; a pure function of seed, epoch and row.</summary>
    public (string Positive, string? Negative) Draw(int seed, int epoch, int row)
    {
        var negatives = DrawNegatives(seed, epoch, row, 1);
        return (DrawPositive(seed, epoch, row), negatives.Count == 0 ? null : negatives[0]);
    }

    /// <summary>The positive this row contributes in <paramref name="epoch"/>.</summary>
    public string DrawPositive(int seed, int epoch, int row) =>
        Positives.Count == 1 ? Positives[0] : Positives[(int)(DeterministicHash.Mix(seed, epoch, row, 0) % (ulong)Positives.Count)];

    /// <summary>
    /// The <paramref name="k"/> negatives this row contributes in <paramref name="epoch"/> (none when it has none): drawn
    /// without replacement by a Fisher–Yates pass whose j-th swap is seeded by (seed, epoch, row, j), so the first is
    /// the one <see cref="Draw"/> gives and k = 1 draws what one negative per row always drew. A row with fewer than k
    /// negatives gives all of them in that drawn order, then repeats them in the same order until there are k.
    /// </summary>
    public IReadOnlyList<string> DrawNegatives(int seed, int epoch, int row, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int n = Negatives.Count;
        if (n == 0) return [];
        var order = Enumerable.Range(0, n).ToArray();
        int distinct = Math.Min(k, n);
        for (int j = 0; j < distinct; j++)
        {
            ulong key = j == 0 ? DeterministicHash.Mix(seed, epoch, row, 1) : DeterministicHash.Mix(seed, epoch, row, 1, j);
            int pick = j + (int)(key % (ulong)(n - j));
            (order[j], order[pick]) = (order[pick], order[j]);
        }
        return Enumerable.Range(0, k).Select(j => Negatives[order[j % distinct]]).ToList();
    }
}
