using TorchSharp;
using Trainer.Models.Lora;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then + mlp(norm(·)).</summary>
public sealed class MistralDecoderLayer : nn.Module<Tensor, AttentionInputs, Tensor>
{
    public MistralAttention self_attn;
    public MistralMlp mlp;
    public RmsNorm input_layernorm;
    public RmsNorm post_attention_layernorm;

    public MistralDecoderLayer(MistralConfig config, ProjectionFactory projections, string path, ScalarType dtype, Device device)
        : base(nameof(MistralDecoderLayer))
    {
        self_attn = new MistralAttention(config, projections, $"{path}.self_attn", dtype, device);
        mlp = new MistralMlp(config, projections, $"{path}.mlp");
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    /// <summary>x [T, H] (the packed tokens, <see cref="TokenPacking"/>) → [T, H].</summary>
    public override Tensor forward(Tensor x, AttentionInputs inputs)
    {
        using var scope = NewDisposeScope();
        using var one = 1.ToScalar();
        var h = x.add(self_attn.call(input_layernorm.call(x), inputs), alpha: one);
        var output = h.add(mlp.call(post_attention_layernorm.call(h)), alpha: one);
        return output.MoveToOuterDisposeScope();
    }
}
