using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// Llama 3.1's RoPE frequency rescale (<c>rope_type: llama3</c>), as Hugging Face's <c>_compute_llama3_parameters</c>
/// computes it. With wavelength λ = 2π / f of each frequency f and the wavelengths L = original / low_freq_factor and
/// S = original / high_freq_factor: λ &lt; S (high frequencies) keep f; λ &gt; L (low frequencies) become f / factor;
/// in between, f is blended as (1 − s)·f / factor + s·f with s = (original / λ − low) / (high − low). The attention
/// scale is unchanged (HF's attention_factor is 1 for this type). Every step is float32, in HF's order (a scalar
/// divided by a tensor is its reciprocal times the scalar, as in PyTorch), so the tables are HF's bit for bit.
/// </summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, double OriginalMaxPositionEmbeddings)
{
    /// <summary>The rescaled frequencies, float32 like <paramref name="inverseFrequencies"/> [Dh/2].</summary>
    public Tensor Rescale(Tensor inverseFrequencies)
    {
        using var scope = NewDisposeScope();
        var f = inverseFrequencies;
        double lowWavelength = OriginalMaxPositionEmbeddings / LowFreqFactor, highWavelength = OriginalMaxPositionEmbeddings / HighFreqFactor;
        using var twoPi = (2 * Math.PI).ToScalar();
        using var factor = Factor.ToScalar();
        using var original = OriginalMaxPositionEmbeddings.ToScalar();
        using var low = LowFreqFactor.ToScalar();
        using var band = (HighFreqFactor - LowFreqFactor).ToScalar();
        using var one = 1.ToScalar();
        using var lowScalar = lowWavelength.ToScalar();
        using var highScalar = highWavelength.ToScalar();
        var wavelength = f.reciprocal() * twoPi;                                   // 2π / f
        var scaled = where(wavelength.gt(lowScalar), f / factor, f);             // low frequencies divided by the factor
        var smooth = (wavelength.reciprocal() * original - low) / band;          // (original / λ − low) / (high − low)
        var blended = (smooth.neg().add(one, alpha: one) * scaled / factor).add(smooth * scaled, alpha: one); // (1 − s)·f / factor + s·f
        var medium = wavelength.lt(highScalar).logical_not().logical_and(wavelength.gt(lowScalar).logical_not());
        return where(medium, blended, scaled).MoveToOuterDisposeScope();
    }

    /// <summary>Checks the values as Hugging Face's validation does, naming <paramref name="key"/> (e.g. <c>rope_scaling</c>) and <paramref name="source"/>.</summary>
    public void Validate(string key, string source)
    {
        void Require(bool ok, string field, double value, string allowed)
        {
            if (!ok) throw new InvalidDataException($"{source}: {key}.{field} = {value} is invalid; {allowed}.");
        }
        Require(Factor > 0, "factor", Factor, "it must be > 0");
        Require(LowFreqFactor > 0, "low_freq_factor", LowFreqFactor, "it must be > 0");
        Require(HighFreqFactor > LowFreqFactor, "high_freq_factor", HighFreqFactor, $"it must be greater than low_freq_factor ({LowFreqFactor})");
        Require(OriginalMaxPositionEmbeddings >= 1, "original_max_position_embeddings", OriginalMaxPositionEmbeddings, "it must be at least 1");
    }
}
