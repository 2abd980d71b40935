namespace Trainer.Data;

/// <summary>
/// Which rows each step of an epoch trains on: a pure function of the sources' sizes and weights, the batching mode,
/// the batch size, the seed and the epoch, so that a resumed run recomputes the same batches from the step alone.
/// Rows are global indices into the examples of all sources (source 0's rows first, then source 1's, ...).
///
/// Weighting, per source and epoch: round(weight × rows) rows are used (at least one). Every row is used ⌊that / rows⌋
/// times, and the remainder is drawn without replacement, by seed, anew each epoch. A weight of 1 uses every row once,
/// with no draw.
///
/// <c>mixed</c>: the weighted rows of all sources form one pool, shuffled per epoch (<see cref="EpochOrder"/>) and cut
/// into batches; the rows left over after the last full batch are not used that epoch (the next epoch's shuffle puts
/// other rows last). With every weight 1 this is exactly the one-pool order Trainer always used.
///
/// <c>same_source</c>: each source's weighted rows are shuffled and cut into full batches of their own; each source's
/// last rows that do not fill a batch are left out that epoch, and all the batches are then shuffled together, so a
/// source's share of the steps is its share of the full batches. This is what FlagEmbedding's
/// <c>same_dataset_within_batch</c> does (its <c>refresh_epoch</c> drops each dataset's incomplete last batch). The batch
/// is the global one: replicas and GradCache split it afterwards, so they all see one source.
/// </summary>
public sealed class EpochPlan
{
    private readonly IReadOnlyList<int> _sizes;
    private readonly IReadOnlyList<double> _weights;
    private readonly int[] _starts;
    private readonly int _seed;
    private readonly bool _shuffle;

    public EpochPlan(IReadOnlyList<int> sourceSizes, IReadOnlyList<double> weights, bool sameSource, int batchSize, int seed, bool shuffle)
    {
        if (sourceSizes.Count != weights.Count) throw new ArgumentException($"{sourceSizes.Count} sources but {weights.Count} weights.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        (_sizes, _weights, SameSource, BatchSize, _seed, _shuffle) = (sourceSizes, weights, sameSource, batchSize, seed, shuffle);
        _starts = new int[sourceSizes.Count];
        for (int s = 1; s < _starts.Length; s++) _starts[s] = _starts[s - 1] + sourceSizes[s - 1];
        RowsPerSource = sourceSizes.Select((n, s) => RowsPerEpoch(n, weights[s])).ToList();
        BatchesPerSource = RowsPerSource.Select(r => sameSource ? r / batchSize : 0).ToList();
        StepsPerEpoch = sameSource ? BatchesPerSource.Sum() : RowsPerSource.Sum() / batchSize;
    }

    public bool SameSource { get; }
    public int BatchSize { get; }

    /// <summary>The rows each source contributes per epoch after weighting.</summary>
    public IReadOnlyList<int> RowsPerSource { get; }

    /// <summary>With same_source, the full batches each source gives per epoch; zeros when mixed.</summary>
    public IReadOnlyList<int> BatchesPerSource { get; }

    public int StepsPerEpoch { get; }

    /// <summary>The rows a source of <paramref name="rows"/> valid rows gives per epoch: round(weight × rows), at least 1 when there are rows.</summary>
    public static int RowsPerEpoch(int rows, double weight) => rows == 0 ? 0 : Math.Max(1, (int)Math.Round(weight * rows, MidpointRounding.AwayFromZero));

    /// <summary>The source (index) that global row <paramref name="row"/> belongs to.</summary>
    public int SourceOf(int row)
    {
        int s = Array.BinarySearch(_starts, row);
        if (s < 0) s = ~s - 1;
        while (s + 1 < _starts.Length && _starts[s + 1] == row) s++; // skip empty sources that start at the same row
        return s;
    }

    /// <summary>The epoch's batches in step order: <see cref="StepsPerEpoch"/> arrays of <see cref="BatchSize"/> global rows.</summary>
    public int[][] Batches(int epoch)
    {
        if (!SameSource)
        {
            var pool = Enumerable.Range(0, _sizes.Count).SelectMany(s => Weighted(s, epoch)).ToArray();
            var order = EpochOrder.For(pool.Length, _seed, epoch, _shuffle);
            return Enumerable.Range(0, StepsPerEpoch).Select(b => order.AsSpan(b * BatchSize, BatchSize).ToArray().Select(i => pool[i]).ToArray()).ToArray();
        }
        var batches = new List<int[]>(StepsPerEpoch);
        for (int s = 0; s < _sizes.Count; s++)
        {
            var rows = Weighted(s, epoch);
            if (_shuffle) Shuffle(rows, DeterministicHash.Mix(_seed, epoch, s, 3));
            for (int b = 0; b < BatchesPerSource[s]; b++) batches.Add(rows[(b * BatchSize)..((b + 1) * BatchSize)]);
        }
        var result = batches.ToArray();
        if (_shuffle) Shuffle(result, DeterministicHash.Mix(_seed, epoch, -1, 4));
        return result;
    }

    /// <summary>Source <paramref name="s"/>'s rows for the epoch, in file order: every row ⌊w⌋ times, then the drawn remainder.</summary>
    private int[] Weighted(int s, int epoch)
    {
        int n = _sizes[s], count = RowsPerSource[s], start = _starts[s];
        if (n == 0) return [];
        var rows = new List<int>(count);
        for (int copy = 0; copy < count / n; copy++) rows.AddRange(Enumerable.Range(start, n));
        int rest = count % n;
        if (rest > 0)
        {
            var all = Enumerable.Range(start, n).ToArray();
            Shuffle(all, DeterministicHash.Mix(_seed, epoch, s, 2));
            rows.AddRange(all[..rest].Order());
        }
        return [.. rows];
    }

    /// <summary>A Fisher–Yates shuffle seeded by <paramref name="key"/>.</summary>
    private static void Shuffle<T>(T[] items, ulong key)
    {
        var random = new Random((int)(key & int.MaxValue));
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
