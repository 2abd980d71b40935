using Trainer.Models;
using static TorchSharp.torch;

namespace Trainer.Inference;

/// <summary>
/// Embeds token sequences with an <see cref="EmbeddingDecoder"/> through <see cref="EmbeddingPass"/>, inside an
/// <see cref="InferenceScope"/>: a model that was training is training again afterwards.
/// </summary>
public sealed class TextEmbedder(EmbeddingDecoder model, int batchSize = 16)
{
    /// <summary>
    /// Rows of ids → unit vectors (or, with <paramref name="normalize"/> false, the pooled hidden states as they are), in
    /// input order. Rows are batched by length to keep padding small.
    /// </summary>
    public float[][] Embed(IReadOnlyList<int[]> rows, Action<int>? progress = null, bool normalize = true)
    {
        var result = new float[rows.Count][];
        var order = Enumerable.Range(0, rows.Count).OrderBy(i => rows[i].Length).ToArray();
        using var inference = new InferenceScope(model);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var indices = order.Skip(start).Take(batchSize).ToArray();
            using var scope = NewDisposeScope();
            var batch = indices.Select(i => rows[i]).ToList();
            var embeddings = (normalize ? EmbeddingPass.Embed(model, batch) : EmbeddingPass.EmbedUnnormalized(model, batch)).cpu();
            var flat = embeddings.data<float>().ToArray();
            int width = (int)embeddings.shape[1];
            for (int b = 0; b < indices.Length; b++) result[indices[b]] = flat.AsSpan(b * width, width).ToArray();
            progress?.Invoke(Math.Min(start + batchSize, order.Length));
        }
        return result;
    }
}
