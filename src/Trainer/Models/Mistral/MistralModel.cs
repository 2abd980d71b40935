using TorchSharp;
using TorchSharp.Modules;
using Trainer.Models.Lora;
using Trainer.Models.Modules;
using static TorchSharp.torch;
using Embedding = Trainer.Models.Modules.Embedding;

namespace Trainer.Models.Mistral;

/// <summary>
/// Hugging Face <c>MistralModel</c>: token embeddings, decoder layers, final RMSNorm; returns the last hidden
/// state [B, S, H]. Inside, the layers run on the batch's real tokens packed into [T, H] (<see cref="TokenPacking"/>).
/// Child names equal the weight keys (<c>embed_tokens</c>, <c>layers.N</c>, <c>norm</c>).
/// Parameters start uninitialised: load pretrained weights (<see cref="PretrainedLoader"/>). With
/// <see cref="LoraSettings"/>, the targeted projections are <see cref="LoraLinear"/>s whose base weights are frozen;
/// only the adapters train.
/// </summary>
public sealed class MistralModel : EmbeddingDecoder
{
    public Embedding embed_tokens;
    public ModuleList<MistralDecoderLayer> layers;
    public RmsNorm norm;

    public MistralModel(MistralConfig config, ScalarType dtype, Device device, LoraSettings? lora = null, KeyLayout? keys = null)
        : base(nameof(MistralModel), new MistralFamily(config), dtype, lora, keys)
    {
        Config = config;
        var projections = new ProjectionFactory(dtype, device, lora, () => DropoutGenerator);
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<MistralDecoderLayer>(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new MistralDecoderLayer(config, projections, $"layers.{i}", dtype, device)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
        FreezeBase();
    }

    public MistralConfig Config { get; }

    public override Device Device => embed_tokens.weight.device;

    /// <summary>
    /// Always build the explicit additive mask, even where libtorch's causal kernel gives the same outputs on every
    /// real token (<see cref="AttentionMask.For"/>): the reference path the tests compare the causal kernel against.
    /// </summary>
    public bool ExplicitMask { get; set; }

    /// <summary>
    /// Run the layers on the batch's real tokens (<see cref="TokenPacking"/>). Off, every position of the [B, S] grid
    /// is computed, pads included: the reference path the tests compare the packing against.
    /// </summary>
    public bool PackTokens { get; set; } = true;

    /// <summary>
    /// inputIds [B, S] int64, attentionMask [B, S] (1 real, 0 pad; right-padded) → [B, S, H], zero at the pads
    /// (nothing is computed there) unless <see cref="PackTokens"/> is off.
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var packing = PackTokens ? TokenPacking.Of(attentionMask) : TokenPacking.Grid(inputIds.shape[0], inputIds.shape[1], inputIds.device);
        var x = embed_tokens.call(packing.Pack(inputIds));                                                  // [T, H]
        var (cos, sin) = RotaryEmbedding.Tables(inputIds.shape[1], Config.HeadDim, Config.RopeTheta, x.dtype, x.device, Config.RopeScaling); // [S, Dh]
        var positions = packing.Positions(x.device);                                                        // [T]
        var mask = ExplicitMask ? AttentionMask.Build(attentionMask, Config.SlidingWindow, x.dtype) : AttentionMask.For(attentionMask, Config.SlidingWindow, x.dtype);
        var inputs = new AttentionInputs(cos.index_select(0, positions).unsqueeze(1), sin.index_select(0, positions).unsqueeze(1), mask, packing);
        bool checkpoint = GradientCheckpointing && training && is_grad_enabled();
        foreach (var layer in layers)
            x = checkpoint ? ActivationRecompute.Apply(layer, x, inputs, DropoutGenerator, RecomputedGradients) : layer.call(x, inputs);
        return packing.ToGrid(norm.call(x)).MoveToOuterDisposeScope();
    }
}
