using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// A model family's reading of one <c>config.json</c>: the family-neutral facts (<see cref="Config"/>), the tensors the
/// weights must hold, the parameter counts, and how to build the model. Everything but <see cref="Create"/> works
/// from the config alone, so a config that cannot fit is refused before any weight is read or allocated.
/// <see cref="ModelFamilies"/> picks the family from <c>model_type</c>.
/// </summary>
public abstract class ModelFamily
{
    public abstract IDecoderConfig Config { get; }

    /// <summary>Every base tensor with its shape (model names, no prefix), produced one at a time in parameter order.</summary>
    public abstract IEnumerable<(string Name, long[] Shape)> Tensors();

    /// <summary>How many tensors <see cref="Tensors"/> yields, without enumerating them.</summary>
    public abstract long TensorCount();

    /// <summary>Base parameters; <see cref="OverflowException"/> when the count does not fit in 64 bits.</summary>
    public abstract long ParameterCount();

    /// <summary>LoRA parameters the settings add; <see cref="OverflowException"/> past 64 bits.</summary>
    public abstract long LoraParameterCount(LoraSettings lora);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="source"/> when the targeted projections cannot take the LoRA rank.</summary>
    public abstract void CheckLoraRank(LoraSettings lora, string source);

    /// <summary>
    /// The same family with RoPE's base θ replaced (<c>rope_theta</c>): the model built from it rotates with
    /// θ^(−2i/Dh). <c>trainer eval --passkey --rope-theta</c> raises it to extrapolate past the trained length.
    /// </summary>
    public abstract ModelFamily WithRopeTheta(double theta);

    /// <summary>The model with uninitialised base parameters (the loader fills them) and, with <paramref name="lora"/>, its adapters.</summary>
    public abstract EmbeddingDecoder Create(ScalarType dtype, Device device, LoraSettings? lora, KeyLayout keys);
}
