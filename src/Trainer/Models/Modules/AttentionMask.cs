using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// The attention mask shared by every layer: causal, sliding-window (key k hidden from query q when q − k ≥ window)
/// and key padding.
///
/// <see cref="Build"/> writes it out as an additive mask. Hidden entries hold the dtype's most negative finite value,
/// as HF does, so a fully hidden row (a padded query) gives a finite uniform softmax instead of NaN.
///
/// <see cref="For"/> leaves it implicit where that is exact: with right padding every key a real token may see
/// (k ≤ q) is real, and a window no shorter than the batch's length hides nothing, so causal attention without a
/// mask gives every real token the same output, and libtorch may pick a flash or memory-efficient kernel. Only the
/// rows of pad positions differ (they are never pooled, and nothing real attends to them).
/// </summary>
public static class AttentionMask
{
    /// <summary>attentionMask [B, S] (1 = real token) → the mask for <see cref="AttentionInputs"/>: empty when causal attention is exact, else <see cref="Build"/>'s.</summary>
    public static Tensor For(Tensor attentionMask, int? slidingWindow, ScalarType dtype) =>
        CausalIsExact(attentionMask, slidingWindow) ? empty(0, dtype, attentionMask.device) : Build(attentionMask, slidingWindow, dtype);

    /// <summary>
    /// True when no window applies within the batch's length S (null or ≥ S: q − k never exceeds S − 1) and every row
    /// is right-padded. Reads one bool from the mask's device: a synchronisation, though on CUDA the blocking copy of
    /// the same batch to the device has just drained the queue.
    /// </summary>
    public static bool CausalIsExact(Tensor attentionMask, int? slidingWindow)
    {
        long s = attentionMask.shape[1];
        return (slidingWindow is not int window || window >= s) && IsRightPadded(attentionMask);
    }

    /// <summary>True when no row has a real token after a pad: each row of attentionMask [B, S] reads 1…1 0…0.</summary>
    public static bool IsRightPadded(Tensor attentionMask)
    {
        long s = attentionMask.shape[1];
        if (s < 2) return true;
        using var scope = NewDisposeScope();
        using var zero = 0.ToScalar();
        var real = attentionMask.ne(zero);                                                     // [B, S]
        var realAfterPad = real.narrow(1, 1, s - 1).logical_and(real.narrow(1, 0, s - 1).logical_not()); // [B, S−1]
        return !realAfterPad.any().item<bool>();
    }

    /// <summary>attentionMask [B, S] (1 = real token) → additive mask [B, 1, S, S] in <paramref name="dtype"/>.</summary>
    public static Tensor Build(Tensor attentionMask, int? slidingWindow, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long s = attentionMask.shape[1];
        var device = attentionMask.device;
        using var zero = 0.ToScalar();
        using var length = s.ToScalar();
        using var one = 1.ToScalar();
        var q = arange(zero, length, one, ScalarType.Int64, device).unsqueeze(1); // [S, 1]
        var k = arange(zero, length, one, ScalarType.Int64, device).unsqueeze(0); // [1, S]
        var distance = q - k;                                                      // [S, S]
        var visible = distance.ge(zero);
        if (slidingWindow is int window)
        {
            using var windowLength = window.ToScalar();
            visible = visible.logical_and(distance.lt(windowLength));
        }
        var keyIsReal = attentionMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1); // [B, 1, 1, S]
        visible = visible.unsqueeze(0).unsqueeze(0).logical_and(keyIsReal);          // [B, 1, S, S]
        double min = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        using var minScalar = min.ToScalar();
        var hidden = zeros(visible.shape, dtype, device).masked_fill(visible.logical_not(), minScalar);
        return hidden.MoveToOuterDisposeScope();
    }
}
