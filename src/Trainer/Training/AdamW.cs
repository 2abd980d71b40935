using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// TorchSharp's <see cref="TorchSharp.Modules.AdamW"/> with every number of its update held as a <see cref="Scalar"/> across the libtorch
/// call that reads it (docs/torchsharp-scalars.md: TorchSharp 0.107's own <c>step</c> leaves them to the finalizer,
/// which another thread's garbage collection can run mid-call). The update is the same operations on the same double
/// values in the same order as TorchSharp's <c>AdamW.step</c> (decoupled weight decay, bias-corrected moments), so
/// parameters, moments and the saved state (<c>optimizer.bin</c>) are bit for bit TorchSharp's; the state, its
/// save and load are TorchSharp's own. AMSGrad and <c>maximize</c> are not offered: the trainer uses neither.
/// It keeps the name <c>AdamW</c> on purpose: TorchSharp writes the optimizer's type name into the saved state and
/// refuses a state of another name, so checkpoints written with TorchSharp's class resume with this one, and back.
/// </summary>
public sealed class AdamW(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay)
    : TorchSharp.Modules.AdamW(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: false)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double lr = options.LearningRate!.Value, weightDecay = options.weight_decay!.Value;
        using var decay = (1 - lr * weightDecay).ToScalar();
        using var b1 = beta1.ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var oneMinusB2 = (1 - beta2).ToScalar();
        using var epsilon = eps.ToScalar();
        using var one = 1.ToScalar();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(decay);
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(b1).add_(grad, alpha: oneMinusB1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value: oneMinusB2);
            using var rootCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var stepSize = (-(lr / biasCorrection1)).ToScalar();
            var denominator = (state.exp_avg_sq.sqrt() / rootCorrection2).add_(epsilon, alpha: one); // in _step's dispose scope
            param.addcdiv_(state.exp_avg, denominator, value: stepSize);
        }
    }, closure);
}
