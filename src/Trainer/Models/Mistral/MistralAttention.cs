using TorchSharp;
using Trainer.Models.Lora;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Grouped-query self-attention with rotary positions. Legend: T packed tokens, B batch, S sequence, H hidden,
/// Nh query heads, Nkv key/value heads, Dh head dim. Each KV head serves Nh / Nkv query heads. The projections and
/// the rotation run on the packed tokens; the attention itself on the [B, S] grid (<see cref="TokenPacking"/>).
/// Qwen2's q, k and v projections add a bias (<see cref="MistralConfig.QkvBias"/>); Qwen3 RMS-normalises each head of
/// q and k over Dh before the rotation (<see cref="MistralConfig.QkNorm"/>: <c>q_norm</c>, <c>k_norm</c>, else absent).
/// </summary>
public sealed class MistralAttention : nn.Module<Tensor, AttentionInputs, Tensor>
{
    public nn.Module<Tensor, Tensor> q_proj;
    public nn.Module<Tensor, Tensor> k_proj;
    public nn.Module<Tensor, Tensor> v_proj;
    public nn.Module<Tensor, Tensor> o_proj;
    public RmsNorm? q_norm; // [Dh], Qwen3
    public RmsNorm? k_norm; // [Dh], Qwen3

    private readonly int _heads, _kvHeads, _headDim;

    public MistralAttention(MistralConfig config, ProjectionFactory projections, string path, ScalarType dtype, Device device) : base(nameof(MistralAttention))
    {
        (_heads, _kvHeads, _headDim) = (config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
        q_proj = projections.Create($"{path}.q_proj", config.HiddenSize, _heads * _headDim, config.QkvBias);
        k_proj = projections.Create($"{path}.k_proj", config.HiddenSize, _kvHeads * _headDim, config.QkvBias);
        v_proj = projections.Create($"{path}.v_proj", config.HiddenSize, _kvHeads * _headDim, config.QkvBias);
        o_proj = projections.Create($"{path}.o_proj", _heads * _headDim, config.HiddenSize);
        if (config.QkNorm)
        {
            q_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device);
            k_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device);
        }
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
        if (q_norm is not null) (q, k) = (q_norm.call(q), k_norm!.call(k));     // per head, over Dh
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
