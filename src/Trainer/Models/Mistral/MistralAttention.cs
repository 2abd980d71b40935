using TorchSharp;
using Trainer.Models.Lora;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Grouped-query self-attention with rotary positions. Legend: T packed tokens, B batch, S sequence, H hidden,
/// Nh query heads, Nkv key/value heads, Dh head dim. Each KV head serves Nh / Nkv query heads. The projections and
/// the rotation run on the packed tokens; the attention itself on the [B, S] grid (<see cref="TokenPacking"/>).
/// </summary>
public sealed class MistralAttention : nn.Module<Tensor, AttentionInputs, Tensor>
{
    public nn.Module<Tensor, Tensor> q_proj;
    public nn.Module<Tensor, Tensor> k_proj;
    public nn.Module<Tensor, Tensor> v_proj;
    public nn.Module<Tensor, Tensor> o_proj;

    private readonly int _heads, _kvHeads, _headDim;

    public MistralAttention(MistralConfig config, ProjectionFactory projections, string path) : base(nameof(MistralAttention))
    {
        (_heads, _kvHeads, _headDim) = (config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
        q_proj = projections.Create($"{path}.q_proj", config.HiddenSize, _heads * _headDim);
        k_proj = projections.Create($"{path}.k_proj", config.HiddenSize, _kvHeads * _headDim);
        v_proj = projections.Create($"{path}.v_proj", config.HiddenSize, _kvHeads * _headDim);
        o_proj = projections.Create($"{path}.o_proj", _heads * _headDim, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>x [T, H] → [T, H].</summary>
    public override Tensor forward(Tensor x, AttentionInputs inputs)
    {
        using var scope = NewDisposeScope();
        long t = x.shape[0];
        var packing = inputs.Packing;
        var q = q_proj.call(x).view(t, _heads, _headDim);                      // [T, Nh, Dh]
        var k = k_proj.call(x).view(t, _kvHeads, _headDim);                    // [T, Nkv, Dh]
        var v = v_proj.call(x).view(t, _kvHeads, _headDim);                    // [T, Nkv, Dh]
        q = RotaryEmbedding.Apply(q, inputs.Cos, inputs.Sin);
        k = RotaryEmbedding.Apply(k, inputs.Cos, inputs.Sin);
        var qs = packing.ToGrid(q).transpose(1, 2);                                // [B, Nh, S, Dh]
        var ks = packing.ToGrid(k).transpose(1, 2).repeat_interleave(_heads / _kvHeads, dim: 1); // [B, Nh, S, Dh]
        var vs = packing.ToGrid(v).transpose(1, 2).repeat_interleave(_heads / _kvHeads, dim: 1); // [B, Nh, S, Dh]
        var attended = inputs.IsCausal                                          // [B, Nh, S, Dh]
            ? nn.functional.scaled_dot_product_attention(qs, ks, vs, is_casual: true) // (sic: TorchSharp spells it so)
            : nn.functional.scaled_dot_product_attention(qs, ks, vs, inputs.Mask);
        var merged = packing.Pack(attended.transpose(1, 2)).reshape(t, _heads * _headDim); // [T, Nh*Dh]
        return o_proj.call(merged).MoveToOuterDisposeScope();
    }
}
