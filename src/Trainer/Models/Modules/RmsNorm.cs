using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>RMSNorm as HF computes it: normalise in float32, cast back to the input dtype, then scale by <c>weight</c>.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [H]
    private readonly double _eps;

    public RmsNorm(long hidden, double eps, ScalarType dtype, Device device) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(hidden, dtype, device));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var two = 2.ToScalar();
        using var eps = _eps.ToScalar();
        using var one = 1.ToScalar();
        var x32 = x.to(ScalarType.Float32);
        var variance = x32.pow(two).mean([-1L], keepdim: true);
        var normed = x32 * rsqrt(variance.add(eps, alpha: one));
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
