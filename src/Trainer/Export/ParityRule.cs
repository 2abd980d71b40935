using System.Globalization;
using static TorchSharp.torch;

namespace Trainer.Export;

/// <summary>
/// When an ONNX export counts as the trained model. Each export is judged on what its users consume:
/// <c>sentence_embedding</c> by its largest element difference and its smallest cosine with the TorchSharp embedding
/// (both unit vectors, so neither depends on the model's scale), and <c>last_hidden_state</c> over real tokens, which
/// transformers.js and sentence-transformers pool themselves. float32 holds the hidden states to an absolute
/// <see cref="HiddenMaxAbs"/>; float16 holds them to <see cref="HiddenMaxAbs"/> × the largest |value| of the reference
/// (its scale), because half precision keeps about three significant digits and hidden values of a trained model
/// reach 10 and beyond, where an absolute bound would fail a correct export.
/// </summary>
public sealed record ParityRule(string Name, double EmbeddingMaxAbs, double EmbeddingMinCosine, double HiddenMaxAbs, bool HiddenRelativeToScale)
{
    public static readonly ParityRule Float32 = new("float32", 1e-4, 0.9999, 1e-4, HiddenRelativeToScale: false);

    public static readonly ParityRule Float16 = new("float16", 1e-2, 0.999, 1e-2, HiddenRelativeToScale: true);

    public static ParityRule For(ScalarType dtype) => dtype == ScalarType.Float16 ? Float16 : Float32;

    /// <summary>The largest |Δ| allowed on the hidden states whose largest |value| is <paramref name="scale"/>.</summary>
    public double HiddenLimit(double scale) => HiddenRelativeToScale ? HiddenMaxAbs * scale : HiddenMaxAbs;

    public bool Accepts(OnnxParity p) =>
        p.EmbeddingMaxAbs <= EmbeddingMaxAbs && p.EmbeddingMinCosine >= EmbeddingMinCosine && p.HiddenMaxAbs <= HiddenLimit(p.HiddenScale);

    /// <summary>The rule in words, as the export log prints it.</summary>
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "{0} rule: sentence_embedding max |Δ| ≤ {1:G3} and min cosine ≥ {2:G6}; last_hidden_state max |Δ| ≤ {3}",
        Name, EmbeddingMaxAbs, EmbeddingMinCosine, HiddenRelativeToScale ? $"{HiddenMaxAbs:G3} × its largest |value|" : $"{HiddenMaxAbs:G3}");
}
