using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// Per-forward inputs every decoder layer shares: where the packed tokens sit in the batch (<see cref="TokenPacking"/>),
/// each token's rotary row (cos and sin [T, 1, Dh]) and the attention mask over the [B, S] grid, either additive
/// [B, 1, S, S] or empty (no elements) when plain causal attention gives the same outputs on every real token
/// (<see cref="IsCausal"/>, chosen by <see cref="AttentionMask.For"/>). The mask stays a tensor either way, so that
/// <see cref="ActivationRecompute"/> saves and restores the tensors alike.
/// </summary>
public sealed record AttentionInputs(Tensor Cos, Tensor Sin, Tensor Mask, TokenPacking Packing)
{
    /// <summary>Attention runs libtorch's causal kernel (<c>is_causal</c>, no mask), which may pick flash attention.</summary>
    public bool IsCausal => Mask.numel() == 0;
}
