using System.Globalization;

namespace Trainer.Export;

/// <summary>
/// How far an ONNX export's outputs are from the TorchSharp model's on one batch: the largest |Δ| and the smallest
/// per-row cosine of <c>sentence_embedding</c>, the largest |Δ| of <c>last_hidden_state</c> over real tokens and the
/// largest |value| of the reference there (its scale), judged by <see cref="Rule"/>.
/// </summary>
public sealed record OnnxParity(double EmbeddingMaxAbs, double EmbeddingMinCosine, double HiddenMaxAbs, double HiddenScale, ParityRule Rule)
{
    public bool Passed => Rule.Accepts(this);

    /// <summary>
    /// Compares the outputs of a batch of <paramref name="rows"/> rows: hidden states row-major [B, S, H] with their
    /// attention mask [B, S] (only positions whose mask is 1 count), embeddings [B, H].
    /// </summary>
    public static OnnxParity Measure(ReadOnlySpan<float> expectedHidden, ReadOnlySpan<float> actualHidden, ReadOnlySpan<long> mask,
        ReadOnlySpan<float> expectedEmbedding, ReadOnlySpan<float> actualEmbedding, int rows, ParityRule rule)
    {
        if (expectedHidden.Length != actualHidden.Length || expectedEmbedding.Length != actualEmbedding.Length || expectedEmbedding.Length % rows != 0)
            throw new ArgumentException($"ONNX outputs have {actualHidden.Length} hidden and {actualEmbedding.Length} embedding values; the reference has {expectedHidden.Length} and {expectedEmbedding.Length}.");
        int h = expectedEmbedding.Length / rows;
        double hiddenMax = 0, scale = 0;
        for (int i = 0; i < expectedHidden.Length; i++)
        {
            if (mask[i / h] != 1) continue;
            hiddenMax = Math.Max(hiddenMax, Math.Abs((double)actualHidden[i] - expectedHidden[i]));
            scale = Math.Max(scale, Math.Abs((double)expectedHidden[i]));
        }
        double embeddingMax = 0, minCosine = 1;
        for (int b = 0; b < rows; b++)
        {
            double dot = 0, ee = 0, aa = 0;
            for (int j = b * h; j < (b + 1) * h; j++)
            {
                double e = expectedEmbedding[j], a = actualEmbedding[j];
                embeddingMax = Math.Max(embeddingMax, Math.Abs(a - e));
                dot += e * a;
                ee += e * e;
                aa += a * a;
            }
            double cosine = dot / Math.Sqrt(ee * aa);
            minCosine = Math.Min(minCosine, double.IsNaN(cosine) ? -1 : cosine); // a zero or NaN vector fails
        }
        if (double.IsNaN(embeddingMax) || double.IsNaN(hiddenMax)) embeddingMax = hiddenMax = double.PositiveInfinity;
        return new OnnxParity(embeddingMax, minCosine, hiddenMax, scale, rule);
    }

    /// <summary>The measured values and the verdict, as the export log prints them.</summary>
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "sentence_embedding max |Δ| {0:E3}, min cosine {1:F7}; last_hidden_state (real tokens) max |Δ| {2:E3} of largest |value| {3:G4} (limit {4:E3}) [{5}]: {6}",
        EmbeddingMaxAbs, EmbeddingMinCosine, HiddenMaxAbs, HiddenScale, Rule.HiddenLimit(HiddenScale), Rule, Passed ? "ok" : "FAILED");
}
