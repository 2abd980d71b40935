using static TorchSharp.torch;

namespace Trainer.Text;

/// <summary>A right-padded batch: input_ids and attention_mask, both int64 [B, S] with S the longest row.</summary>
public sealed class PaddedBatch : IDisposable
{
    private PaddedBatch(Tensor inputIds, Tensor attentionMask, int[] lengths)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Lengths = lengths;
    }

    public Tensor InputIds { get; }

    public Tensor AttentionMask { get; }

    /// <summary>Real tokens per row; the pooled position of row b is Lengths[b] − 1.</summary>
    public int[] Lengths { get; }

    public static PaddedBatch Create(IReadOnlyList<int[]> rows, int padId, Device? device = null)
    {
        if (rows.Count == 0) throw new ArgumentException("A batch needs at least one row.", nameof(rows));
        if (rows.Any(r => r.Length == 0)) throw new ArgumentException("A row has no tokens.", nameof(rows));
        int width = rows.Max(r => r.Length);
        var ids = new long[rows.Count * width];
        var mask = new long[rows.Count * width];
        Array.Fill(ids, padId);
        for (int b = 0; b < rows.Count; b++)
        {
            for (int s = 0; s < rows[b].Length; s++)
            {
                ids[b * width + s] = rows[b][s];
                mask[b * width + s] = 1;
            }
        }
        var target = device ?? CPU;
        return new PaddedBatch(
            tensor(ids, [rows.Count, width]).to(target).DetachFromDisposeScope(),
            tensor(mask, [rows.Count, width]).to(target).DetachFromDisposeScope(),
            rows.Select(r => r.Length).ToArray());
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
    }
}
