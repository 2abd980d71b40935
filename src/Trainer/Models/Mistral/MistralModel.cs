using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Hugging Face <c>MistralModel</c>: token embeddings, decoder layers, final RMSNorm; returns the last hidden
/// state [B, S, H]. Child names equal the checkpoint keys (<c>embed_tokens</c>, <c>layers.N</c>, <c>norm</c>).
/// Parameters start uninitialised; load a checkpoint or call <see cref="MistralInitializer"/>.
/// </summary>
public sealed class MistralModel : nn.Module<Tensor, Tensor, Tensor>
{
    public Embedding embed_tokens;
    public ModuleList<MistralDecoderLayer> layers;
    public RmsNorm norm;

    public MistralModel(MistralConfig config, ScalarType dtype, Device device) : base(nameof(MistralModel))
    {
        Config = config;
        DType = dtype;
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<MistralDecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new MistralDecoderLayer(config, dtype, device)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public MistralConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device => embed_tokens.weight.device;

    /// <summary>inputIds [B, S] int64, attentionMask [B, S] (1 real, 0 pad; right-padded) → [B, S, H].</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var x = embed_tokens.call(inputIds);
        var (cos, sin) = RotaryEmbedding.Tables(inputIds.shape[1], Config.HeadDim, Config.RopeTheta, x.dtype, x.device);
        var inputs = new AttentionInputs(cos, sin, AttentionMask.Build(attentionMask, Config.SlidingWindow, x.dtype));
        foreach (var layer in layers) x = layer.call(x, inputs);
        return norm.call(x).MoveToOuterDisposeScope();
    }
}
