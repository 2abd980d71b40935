using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// Where a padded batch's real tokens sit in its [B, S] grid. The decoder runs every token-wise module (embedding,
/// norms, projections with their adapters, MLP) on the real tokens alone, packed into [T, ..] with T the number of
/// real tokens, and only attention, which needs each row's sequence, sees the grid: <see cref="ToGrid"/> scatters
/// the packed tokens into a zero grid before it and <see cref="Pack"/> gathers them back after it. With
/// SciFact's documents (144 to 512 of Mistral's tokens) padded to 512, a quarter of the grid is padding, which the
/// projections never compute on.
///
/// The packing changes no real token's value: a token-wise module computes each token alone, and attention sees the
/// same grid (zeros at pads instead of the pads' own vectors, which the mask or causality hides from every real
/// token). A batch without padding is not copied at all (T = B·S, <see cref="Index"/> and <see cref="Real"/> empty).
/// </summary>
/// <param name="Index">[T] int64: the real tokens' flat positions b·S + s, ascending (what <see cref="Pack"/> gathers).</param>
/// <param name="Real">[B·S] bool: which positions are real (where <see cref="ToGrid"/> scatters).</param>
public sealed record TokenPacking(Tensor Index, Tensor Real, long Batch, long Length)
{
    /// <summary>attentionMask [B, S] (1 = real token) → the packing; reads the count of real tokens (a synchronisation).</summary>
    public static TokenPacking Of(Tensor attentionMask)
    {
        long b = attentionMask.shape[0], s = attentionMask.shape[1];
        using (var scope = NewDisposeScope())
        {
            using var zero = 0.ToScalar();
            var real = attentionMask.reshape(-1).ne(zero);                                    // [B·S]
            var index = real.nonzero().view(-1);                                              // [T]
            if (index.shape[0] < b * s) return new TokenPacking(index.MoveToOuterDisposeScope(), real.MoveToOuterDisposeScope(), b, s);
        }
        return Grid(b, s, attentionMask.device);
    }

    /// <summary>Every position of the [B, S] grid as a token, pads included: the unpacked reference.</summary>
    public static TokenPacking Grid(long batch, long length, Device device) =>
        new(empty(0, ScalarType.Int64, device), empty(0, ScalarType.Bool, device), batch, length);

    /// <summary>No padding (or <see cref="Grid"/>): the grid's tokens in order, without a copy.</summary>
    public bool IsDense => Index.numel() == 0;

    /// <summary>Real tokens of the batch.</summary>
    public long Tokens => IsDense ? Batch * Length : Index.shape[0];

    /// <summary>grid [B, S, ..] → packed [T, ..]: the real tokens in row order.</summary>
    public Tensor Pack(Tensor grid)
    {
        var flat = grid.flatten(0, 1);
        return IsDense ? flat : flat.index_select(0, Index);
    }

    /// <summary>Each real token's position in its row, [T] int64 (the rotary tables' row).</summary>
    public Tensor Positions(Device device)
    {
        using var scope = NewDisposeScope();
        using var zero = 0L.ToScalar();
        using var count = (Batch * Length).ToScalar();
        using var one = 1L.ToScalar();
        using var length = Length.ToScalar();
        var flat = IsDense ? arange(zero, count, one, ScalarType.Int64, device) : Index;
        return flat.remainder(length).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// packed [T, ..] → grid [B, S, ..] with zeros at the pads. By <c>masked_scatter</c>, whose backward keeps only
    /// the mask: <c>index_copy</c>'s keeps the packed tensor itself (libtorch's derivative reads its shape through
    /// it), which for q, k and v is (Nh + 2·Nkv)·Dh more values kept per token and layer (scripts/activation-memory.cs
    /// saw it).
    /// </summary>
    public Tensor ToGrid(Tensor packed)
    {
        long[] grid = [Batch, Length, .. packed.shape.Skip(1)];
        if (IsDense) return packed.view(grid);
        using var scope = NewDisposeScope();
        long[] flat = [Batch * Length, .. packed.shape.Skip(1)];
        long[] column = [Batch * Length, .. packed.shape.Skip(1).Select(_ => 1L)];
        var zeros = torch.zeros(flat, packed.dtype, packed.device);
        return zeros.masked_scatter(Real.view(column), packed).view(grid).MoveToOuterDisposeScope();
    }
}
