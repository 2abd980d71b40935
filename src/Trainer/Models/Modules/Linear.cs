using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// A bias-free projection y = x·Wᵀ whose weight is allocated uninitialised: the pretrained weights overwrite it, and
/// <see cref="Lora.LoraLinear.ResetAdapter"/> initialises the adapters' A and B. TorchSharp's Linear would spend time and
/// memory initialising 7B parameters only to overwrite them.
/// </summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [out, in]

    public Linear(long inFeatures, long outFeatures, ScalarType dtype, Device device) : base(nameof(Linear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype, device));
        RegisterComponents();
    }

    public long InFeatures => weight.shape[1];

    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight);
}
