using TorchSharp;
using TorchSharp.Modules;
using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Hugging Face <c>MistralModel</c>: token embeddings, decoder layers, final RMSNorm; returns the last hidden
/// state [B, S, H]. Child names equal the checkpoint keys (<c>embed_tokens</c>, <c>layers.N</c>, <c>norm</c>).
/// Parameters start uninitialised: load a checkpoint. With <see cref="LoraSettings"/>, the targeted projections are
/// <see cref="LoraLinear"/>s whose base weights are frozen; only the adapters train.
/// </summary>
public sealed class MistralModel : nn.Module<Tensor, Tensor, Tensor>
{
    public Embedding embed_tokens;
    public ModuleList<MistralDecoderLayer> layers;
    public RmsNorm norm;

    public MistralModel(MistralConfig config, ScalarType dtype, Device device, LoraSettings? lora = null) : base(nameof(MistralModel))
    {
        if (lora is not null) MistralLayout.CheckLoraRank(config, lora); // before a single adapter is allocated
        Config = config;
        DType = dtype;
        Lora = lora;
        DropoutGenerator = new Generator(0, device);
        var projections = new ProjectionFactory(dtype, device, lora, () => DropoutGenerator);
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<MistralDecoderLayer>(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new MistralDecoderLayer(config, projections, $"layers.{i}", dtype, device)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
        if (lora is not null)
            foreach (var p in parameters()) p.requires_grad = false;
        foreach (var (_, adapter) in Adapters()) { adapter.lora_A.weight.requires_grad = true; adapter.lora_B.weight.requires_grad = true; }
    }

    public MistralConfig Config { get; }

    public ScalarType DType { get; }

    public LoraSettings? Lora { get; }

    /// <summary>Draws LoRA dropout masks; its state is saved with training checkpoints.</summary>
    public Generator DropoutGenerator { get; }

    /// <summary>Recompute each decoder layer in backward instead of keeping its activations (<see cref="LayerCheckpoint"/>).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// The gradients that <see cref="LayerCheckpoint"/> hands to autograd during a backward through this model; whoever
    /// ran the backward releases them (<see cref="TensorOwner.Release"/>) once it returns.
    /// </summary>
    public TensorOwner RecomputedGradients { get; } = new();

    /// <summary>"model." when the base checkpoint's keys carry that prefix (MistralForCausalLM), else "".</summary>
    public string CheckpointKeyPrefix { get; set; } = "";

    /// <summary>Every LoRA-wrapped projection with its module path (e.g. <c>layers.0.self_attn.q_proj</c>).</summary>
    public IEnumerable<(string Path, LoraLinear Module)> Adapters() =>
        named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module));

    /// <summary>The trainable parameters: the adapters' A and B, in module order.</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);

    public Device Device => embed_tokens.weight.device;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            RecomputedGradients.Dispose();
            DropoutGenerator.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>inputIds [B, S] int64, attentionMask [B, S] (1 real, 0 pad; right-padded) → [B, S, H].</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var x = embed_tokens.call(inputIds);
        var (cos, sin) = RotaryEmbedding.Tables(inputIds.shape[1], Config.HeadDim, Config.RopeTheta, x.dtype, x.device);
        var inputs = new AttentionInputs(cos, sin, AttentionMask.Build(attentionMask, Config.SlidingWindow, x.dtype));
        bool checkpoint = GradientCheckpointing && training && is_grad_enabled();
        foreach (var layer in layers)
            x = checkpoint ? LayerCheckpoint.Apply(layer, x, inputs, DropoutGenerator, RecomputedGradients) : layer.call(x, inputs);
        return norm.call(x).MoveToOuterDisposeScope();
    }
}
