using TorchSharp;
using Trainer.Models.Lora;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Grouped-query self-attention with rotary positions. Legend: B batch, S sequence, H hidden, Nh query heads,
/// Nkv key/value heads, Dh head dim. Each KV head serves Nh / Nkv query heads.
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

    /// <summary>x [B, S, H] → [B, S, H].</summary>
    public override Tensor forward(Tensor x, AttentionInputs inputs)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], s = x.shape[1];
        var q = q_proj.call(x).view(b, s, _heads, _headDim).transpose(1, 2);   // [B, Nh, S, Dh]
        var k = k_proj.call(x).view(b, s, _kvHeads, _headDim).transpose(1, 2); // [B, Nkv, S, Dh]
        var v = v_proj.call(x).view(b, s, _kvHeads, _headDim).transpose(1, 2); // [B, Nkv, S, Dh]
        q = RotaryEmbedding.Apply(q, inputs.Cos, inputs.Sin);
        k = RotaryEmbedding.Apply(k, inputs.Cos, inputs.Sin);
        k = k.repeat_interleave(_heads / _kvHeads, dim: 1);                     // [B, Nh, S, Dh]
        v = v.repeat_interleave(_heads / _kvHeads, dim: 1);                     // [B, Nh, S, Dh]
        var attended = inputs.IsCausal                                          // [B, Nh, S, Dh]
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true) // (sic: TorchSharp spells it so)
            : nn.functional.scaled_dot_product_attention(q, k, v, inputs.Mask);
        var merged = attended.transpose(1, 2).reshape(b, s, _heads * _headDim);          // [B, S, Nh*Dh]
        return o_proj.call(merged).MoveToOuterDisposeScope();
    }
}
