using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>Per-forward inputs every decoder layer shares: rotary tables [S, Dh] and the additive mask [B, 1, S, S].</summary>
public sealed record AttentionInputs(Tensor Cos, Tensor Sin, Tensor Mask);
