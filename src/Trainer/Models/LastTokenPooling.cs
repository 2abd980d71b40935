using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>The embedding: the final hidden state at each row's last real token (the EOS), L2-normalised in float32.</summary>
public static class LastTokenPooling
{
    /// <summary>hidden [B, S, H], attentionMask [B, S] (right-padded) → [B, H] float32, unit norm.</summary>
    public static Tensor Pool(Tensor hidden, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return nn.functional.normalize(Gather(hidden, attentionMask), p: 2, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>hidden [B, S, H], attentionMask [B, S] (right-padded) → [B, H] float32, not normalised (e5's classification features).</summary>
    public static Tensor Gather(Tensor hidden, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        using var one = 1.ToScalar();
        var last = attentionMask.sum([1L]).to(ScalarType.Int64) - one;                      // [B]
        var index = last.view(-1, 1, 1).expand(hidden.shape[0], 1, hidden.shape[2]);       // [B, 1, H]
        return hidden.gather(1, index).squeeze(1).to(ScalarType.Float32).MoveToOuterDisposeScope(); // [B, H]
    }
}
