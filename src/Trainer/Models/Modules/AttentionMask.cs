using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// The additive attention mask shared by every layer: causal, sliding-window (key k hidden from query q when
/// q − k ≥ window) and key padding. Hidden entries hold the dtype's most negative finite value, as HF does, so a
/// fully hidden row (a padded query) gives a finite uniform softmax instead of NaN.
/// </summary>
public static class AttentionMask
{
    /// <summary>attentionMask [B, S] (1 = real token) → additive mask [B, 1, S, S] in <paramref name="dtype"/>.</summary>
    public static Tensor Build(Tensor attentionMask, int? slidingWindow, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long s = attentionMask.shape[1];
        var device = attentionMask.device;
        var q = arange(s, ScalarType.Int64, device).unsqueeze(1);  // [S, 1]
        var k = arange(s, ScalarType.Int64, device).unsqueeze(0);  // [1, S]
        var distance = q - k;                                       // [S, S]
        var visible = distance.ge(0);
        if (slidingWindow is int window) visible = visible.logical_and(distance.lt(window));
        var keyIsReal = attentionMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1); // [B, 1, 1, S]
        visible = visible.unsqueeze(0).unsqueeze(0).logical_and(keyIsReal);          // [B, 1, S, S]
        double min = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        var hidden = zeros(visible.shape, dtype, device).masked_fill(visible.logical_not(), min);
        return hidden.MoveToOuterDisposeScope();
    }
}
