using TorchSharp;
using Trainer.Models.Lora;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Trainer.Models.Modules;

/// <summary>
/// Gradient checkpointing for one decoder layer (any family's: a module of (x, <see cref="AttentionInputs"/>)) as a custom
/// autograd function: the forward runs without a graph and keeps only the layer input; the backward recomputes the
/// layer with a graph and differentiates it.
///
/// Three details make it exact where the usual recipe is not:
/// - The layer's trainable (LoRA) parameters are inputs of the function, so its backward runs even when the layer
///   input does not require grad (frozen embeddings under LoRA, the classic PEFT pitfall), and their gradients
///   flow back through the engine instead of being accumulated re-entrantly.
/// - The dropout generator's state is saved before the forward and restored for the recompute, so the dropout
///   masks match; afterwards the generator is put back where it was.
/// - The gradients handed back to the engine belong to the <see cref="TensorOwner"/> passed in (the model's
///   <see cref="EmbeddingDecoder.RecomputedGradients"/>), which whoever ran <c>backward()</c> releases afterwards, so
///   nothing outlives the step whichever thread the engine ran the backward on.
/// </summary>
public sealed class ActivationRecompute : MultiTensorFunction<ActivationRecompute>
{
    public override string Name => nameof(ActivationRecompute);

    /// <summary>x [T, H] → layer(x), checkpointed; the backward's gradients go to <paramref name="gradients"/>.</summary>
    public static Tensor Apply(nn.Module<Tensor, AttentionInputs, Tensor> layer, Tensor x, AttentionInputs inputs, DropoutGenerator dropout, TensorOwner gradients)
    {
        // The packing goes in twice: the record, for the forward, and its two tensors, which the forward saves for the
        // backward. The record's tensors die with the forward pass's dispose scope, so the backward rebuilds it from
        // the saved ones and the grid size.
        object[] vars = [layer, dropout, gradients, inputs.Packing, x, inputs.Cos, inputs.Sin, inputs.Mask, inputs.Packing.Index, inputs.Packing.Real, .. layer.parameters().Where(p => p.requires_grad)];
        return apply(vars)[0];
    }

    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var (layer, dropout, gradients, packing) = ((nn.Module<Tensor, AttentionInputs, Tensor>)vars[0], (DropoutGenerator)vars[1], (TensorOwner)vars[2], (TokenPacking)vars[3]);
        var (x, cos, sin, mask) = ((Tensor)vars[4], (Tensor)vars[5], (Tensor)vars[6], (Tensor)vars[7]);
        ctx.save_data("layer", layer);
        ctx.save_data("grid", (packing.Batch, packing.Length));
        ctx.save_data("dropout", dropout);
        ctx.save_data("gradients", gradients);
        ctx.save_data("rng", dropout.GetState());
        ctx.save_data("x_requires_grad", x.requires_grad);
        ctx.save_for_backward([x, cos, sin, mask, packing.Index, packing.Real]);
        using var _ = no_grad();
        return [layer.call(x, new AttentionInputs(cos, sin, mask, packing))];
    }

    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var layer = (nn.Module<Tensor, AttentionInputs, Tensor>)ctx.get_data("layer");
        var dropout = (DropoutGenerator)ctx.get_data("dropout");
        var owner = (TensorOwner)ctx.get_data("gradients");
        bool xRequiresGrad = (bool)ctx.get_data("x_requires_grad");
        var (batch, length) = ((long, long))ctx.get_data("grid");
        var parameters = layer.parameters().Where(p => p.requires_grad).ToList();
        List<Tensor> result;
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var after = dropout.GetState();
            dropout.SetState((byte[])ctx.get_data("rng"));
            IList<Tensor> grads;
            using (enable_grad())
            {
                var x = saved[0].detach().requires_grad_(xRequiresGrad);
                var output = layer.call(x, new AttentionInputs(saved[1], saved[2], saved[3], new TokenPacking(saved[4], saved[5], batch, length)));
                List<Tensor> targets = xRequiresGrad ? [x, .. parameters] : [.. parameters];
                grads = grad([output], targets, [gradOutputs[0]]);
            }
            dropout.SetState(after);
            var gx = xRequiresGrad ? grads[0] : null;
            var gp = grads.Skip(xRequiresGrad ? 1 : 0).ToList();
            result = [null!, null!, null!, null!, gx!, null!, null!, null!, null!, null!, .. gp];
            foreach (var t in result.Where(t => t is not null)) owner.Own(t);
        }
        return result;
    }
}
