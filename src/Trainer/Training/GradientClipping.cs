using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// Gradient clipping by global norm, as libtorch's <c>clip_grad_norm_</c> computes it (the norm of the per-tensor
/// 2-norms; every gradient scaled by min(1, max_norm / (norm + 1e-6))), but the norm stays a tensor on the device:
/// nothing here waits for the device, and the caller reads the norm together with the loss, once per step.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// The global 2-norm of the parameters' gradients before clipping (a float32 scalar on their device, 0 when none
    /// has a gradient); with <paramref name="maxNorm"/> (&gt; 0) the gradients are scaled in place so that their norm
    /// is at most maxNorm. A NaN or Inf gradient gives a non-finite norm (and non-finite gradients), which the caller
    /// must check before stepping.
    /// </summary>
    public static Tensor ClipByGlobalNorm(IReadOnlyList<Parameter> parameters, double? maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return zeros([], ScalarType.Float32, parameters.Count > 0 ? parameters[0].device : CPU).MoveToOuterDisposeScope();
        var norms = grads.Select(g => g.norm()).ToList();              // each []
        var total = norms.Count == 1 ? norms[0] : stack(norms).norm(); // []
        if (maxNorm is double max && max > 0)
        {
            using var maxScalar = max.ToScalar();
            using var epsilon = 1e-6.ToScalar();
            using var one = 1.ToScalar();
            using var ceiling = 1.0.ToScalar();
            var coefficient = (maxScalar / total.add(epsilon, alpha: one)).clamp_max(ceiling); // []
            foreach (var g in grads) g.mul_(coefficient);
        }
        return total.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
