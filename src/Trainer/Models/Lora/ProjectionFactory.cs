using TorchSharp;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Lora;

/// <summary>
/// Builds every projection of the model: a plain <see cref="Linear"/>, or a <see cref="LoraLinear"/> when the LoRA
/// settings target the projection's name. Choosing at construction keeps the module tree
/// fixed from the start (the weight keys never change); nothing is swapped in afterwards.
/// </summary>
public sealed class ProjectionFactory(ScalarType dtype, Device device, LoraSettings? lora, Func<DropoutGenerator> dropoutGenerator)
{
    /// <param name="path">The module's key prefix, e.g. <c>layers.0.self_attn.q_proj</c>.</param>
    /// <param name="bias">Whether the projection has a bias (<c>PATH.bias</c>).</param>
    public nn.Module<Tensor, Tensor> Create(string path, long inFeatures, long outFeatures, bool bias = false) =>
        lora is not null && lora.Targets(path)
            ? new LoraLinear(inFeatures, outFeatures, lora, dtype, device, dropoutGenerator, bias)
            : new Linear(inFeatures, outFeatures, dtype, device, bias);
}
