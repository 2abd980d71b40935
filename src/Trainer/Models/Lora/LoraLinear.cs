using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Linear = Trainer.Models.Modules.Linear;

namespace Trainer.Models.Lora;

/// <summary>
/// A frozen projection plus a low-rank update: y = x·Wᵀ (+ b) + dropout(x)·Aᵀ·Bᵀ·(alpha / r). <c>weight</c> and the
/// optional <c>bias</c> keep the base keys (<c>q_proj.weight</c>, <c>q_proj.bias</c>; the bias stays frozen and a
/// merge leaves it as it is); the adapter is <c>lora_A.weight</c> [r, in] and <c>lora_B.weight</c> [out, r],
/// always float32 whatever the base dtype; they compute in float32 too, or in the base dtype with
/// <see cref="LoraSettings.InModelDtype"/>. A starts Kaiming-uniform (a = √5, PEFT's init) and B at zero, so a
/// new adapter leaves the model unchanged. Dropout draws its masks from the model's <see cref="DropoutGenerator"/>.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [out, in], frozen base
    public readonly Parameter? bias;  // [out], frozen base (Qwen2's q, k, v)
    public Linear lora_A;             // [r, in]
    public Linear lora_B;             // [out, r]

    private readonly double _scaling, _dropout;
    private readonly bool _inModelDtype;
    private readonly Func<DropoutGenerator> _generator;

    public LoraLinear(long inFeatures, long outFeatures, LoraSettings settings, ScalarType dtype, Device device, Func<DropoutGenerator> generator,
        bool hasBias = false)
        : base(nameof(LoraLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype, device), requires_grad: false);
        bias = hasBias ? new Parameter(empty(outFeatures, dtype, device), requires_grad: false) : null;
        lora_A = new Linear(inFeatures, settings.Rank, ScalarType.Float32, device);
        lora_B = new Linear(settings.Rank, outFeatures, ScalarType.Float32, device);
        (_scaling, _dropout, _inModelDtype, _generator) = (settings.Scaling, settings.Dropout, settings.InModelDtype, generator);
        RegisterComponents();
    }

    /// <summary>PEFT's initialisation: A ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5), B = 0.</summary>
    public void ResetAdapter(Generator generator)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope(); // the draw's temporaries, and the wrappers copy_ and zero_ return
        double bound = 1.0 / Math.Sqrt(lora_A.InFeatures);
        using var width = (2 * bound).ToScalar();
        using var low = bound.ToScalar();
        var a = rand(lora_A.weight.shape, generator: generator) * width - low; // drawn on the CPU: same numbers on any device
        lora_A.weight.copy_(a);
        lora_B.weight.zero_();
    }

    /// <summary>
    /// x [.., in] → y [.., out]. The scalars α/r and 1/(1 − p) multiply the rank-r intermediate, not the [.., in] input
    /// or the [.., out] result: the same value up to float32 rounding, with two fewer passes over wide tensors in
    /// forward and two in backward (docs/profile.md, "LoRA dropout's memory traffic").
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.linear(x, weight, bias);                            // [.., out]
        var keep = training && _dropout > 0 ? _generator().KeepMask(x.shape, _dropout, x.device) : null; // [.., in] bool
        double scale = keep is null ? _scaling : _scaling / (1 - _dropout);
        var result = _inModelDtype && x.dtype != ScalarType.Float32 ? AddInModelDtype(y, x, keep, scale) : AddInFloat32(y, x, keep, scale);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// y + B·((A·(x·keep))·scale), the adapter in float32 whatever the base dtype, and the sum rounded once to y's dtype
    /// (PEFT's numerics: it adds the float32 delta to the bf16 result in float32, then casts back).
    /// </summary>
    private Tensor AddInFloat32(Tensor y, Tensor x, Tensor? keep, double scale)
    {
        // Masked in the input's dtype, then cast: x·keep is x or 0 exactly, so the cast equals x.to(float32)·keep bit
        // for bit, forward and backward, and moves fewer bytes on a bf16 base.
        var h = (keep is null ? x : x * keep).to(ScalarType.Float32);             // [.., in] float32
        using var factor = scale.ToScalar();
        using var one = 1.ToScalar();
        var delta = lora_B.call(lora_A.call(h) * factor);                         // [.., r] → [.., out] float32
        return y.add_(delta, alpha: one); // in place: computed in float32, rounded once; y is kept by nothing (AddInModelDtype)
    }

    /// <summary>
    /// y + scale·(A·(x·keep))·Bᵀ with both matmuls in the base dtype (the GEMMs accumulate in float32) on casts of the
    /// float32 parameters, and B's product added into y by addmm's epilogue, where scale is applied in float32: no
    /// float32 copy of the [.., in] input or of the [.., out] result, in forward or backward, and the input kept for
    /// A's gradient in the base dtype. The parameters' gradients are rounded to the base dtype once, by the GEMMs.
    /// </summary>
    private Tensor AddInModelDtype(Tensor y, Tensor x, Tensor? keep, double scale)
    {
        var a = lora_A.weight.to(x.dtype);                                        // [r, in]
        var b = lora_B.weight.to(x.dtype);                                        // [out, r]
        var r = nn.functional.linear(keep is null ? x : x * keep, a);             // [.., r]
        long rank = r.shape[^1], outFeatures = y.shape[^1];
        y.view(-1, outFeatures).addmm_(r.view(-1, rank), b.t(), beta: 1, alpha: (float)scale); // y is the frozen matmul's own output, kept by nothing
        return y;
    }
}
