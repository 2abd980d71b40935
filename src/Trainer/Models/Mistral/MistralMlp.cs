using TorchSharp;
using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) · up(x)).</summary>
public sealed class MistralMlp : nn.Module<Tensor, Tensor>
{
    public nn.Module<Tensor, Tensor> gate_proj;
    public nn.Module<Tensor, Tensor> up_proj;
    public nn.Module<Tensor, Tensor> down_proj;

    public MistralMlp(MistralConfig config, ProjectionFactory projections, string path) : base(nameof(MistralMlp))
    {
        gate_proj = projections.Create($"{path}.gate_proj", config.HiddenSize, config.IntermediateSize);
        up_proj = projections.Create($"{path}.up_proj", config.HiddenSize, config.IntermediateSize);
        down_proj = projections.Create($"{path}.down_proj", config.IntermediateSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = nn.functional.silu(gate_proj.call(x)) * up_proj.call(x); // [T, I]
        return down_proj.call(hidden).MoveToOuterDisposeScope();               // [T, H]
    }
}
