using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// A projection y = x·Wᵀ (+ b, for the families whose projections have one: Qwen2's q, k and v) whose parameters are
/// allocated uninitialised: the pretrained weights overwrite them, and <see cref="Lora.LoraLinear.ResetAdapter"/>
/// initialises the adapters' A and B. TorchSharp's Linear would spend time and memory initialising 7B parameters only
/// to overwrite them.
/// </summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [out, in]
    public readonly Parameter? bias;  // [out]

    public Linear(long inFeatures, long outFeatures, ScalarType dtype, Device device, bool hasBias = false) : base(nameof(Linear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype, device));
        bias = hasBias ? new Parameter(empty(outFeatures, dtype, device)) : null;
        RegisterComponents();
    }

    public long InFeatures => weight.shape[1];

    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight, bias);
}
