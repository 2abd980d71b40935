using TorchSharp;
using TorchSharp.Modules;
using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// A decoder that embeds: (input_ids [B, S] int64, attention_mask [B, S], right-padded) → last hidden state [B, S, H].
/// Training, inference, the replicas and the export's verification hold this type; a family derives from it
/// (<see cref="Mistral.MistralModel"/>) and <see cref="ModelFamilies"/> picks one from <c>model_type</c>. It owns what
/// every family shares: the LoRA dropout generator, the adapters and trainable parameters, the base weights' key
/// layout and the gradients of recomputed layers.
/// </summary>
public abstract class EmbeddingDecoder : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Refuses a LoRA rank the family's projections cannot take before anything is allocated.</summary>
    protected EmbeddingDecoder(string name, ModelFamily family, ScalarType dtype, LoraSettings? lora, KeyLayout? keys) : base(name)
    {
        if (lora is not null) family.CheckLoraRank(lora, "the model"); // before a single adapter is allocated
        (Family, DType, Lora, KeyLayout) = (family, dtype, lora, keys ?? KeyLayout.Bare);
    }

    /// <summary>The family's view of the config the model was built from.</summary>
    public ModelFamily Family { get; }

    public ScalarType DType { get; }

    public LoraSettings? Lora { get; }

    /// <summary>How the base weights' keys are spelled (set by the loader, fixed for the model's life).</summary>
    public KeyLayout KeyLayout { get; }

    /// <summary>Draws LoRA dropout masks on any device; its 16-byte state is saved with training checkpoints.</summary>
    public DropoutGenerator DropoutGenerator { get; } = new();

    /// <summary>Recompute each decoder layer in backward instead of keeping its activations (<see cref="Modules.ActivationRecompute"/>).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// The gradients that <see cref="Modules.ActivationRecompute"/> hands to autograd during a backward through this
    /// model; whoever ran the backward releases them (<see cref="TensorOwner.Release"/>) once it returns.
    /// </summary>
    public TensorOwner RecomputedGradients { get; } = new();

    public abstract Device Device { get; }

    /// <summary>Every LoRA-wrapped projection with its module path (e.g. <c>layers.0.self_attn.q_proj</c>).</summary>
    public IEnumerable<(string Path, LoraLinear Module)> Adapters() =>
        named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module));

    /// <summary>The trainable parameters: the adapters' A and B, in module order (every parameter without LoRA).</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);

    /// <summary>With LoRA, freezes every base parameter so only the adapters train; call after <c>RegisterComponents</c>.</summary>
    protected void FreezeBase()
    {
        if (Lora is null) return;
        foreach (var p in parameters()) p.requires_grad = false;
        foreach (var (_, adapter) in Adapters()) { adapter.lora_A.weight.requires_grad = true; adapter.lora_B.weight.requires_grad = true; }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            RecomputedGradients.Dispose();
            DropoutGenerator.Dispose();
        }
        base.Dispose(disposing);
    }
}
