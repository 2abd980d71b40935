namespace Trainer.Evaluation.Passkey;

/// <summary>
/// Top-1 accuracy of the passkey test: query i is answered when document i scores strictly higher (cosine, i.e. the
/// dot product of the unit vectors <see cref="Inference.TextEmbedder"/> gives) than every other candidate. A tie for
/// the top counts as a miss, so a model that embeds every candidate alike scores 0, not 1 / candidates.
/// </summary>
public static class PasskeyScoring
{
    /// <summary>For each query, whether its own document (same index) is the single best.</summary>
    public static bool[] Hits(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> documents)
    {
        if (queries.Count != documents.Count)
            throw new ArgumentException($"{queries.Count} queries for {documents.Count} documents; query i asks for document i.");
        var hits = new bool[queries.Count];
        for (int q = 0; q < queries.Count; q++)
        {
            double own = Dot(queries[q], documents[q]);
            bool best = true;
            for (int d = 0; d < documents.Count && best; d++)
                if (d != q && Dot(queries[q], documents[d]) >= own) best = false;
            hits[q] = best;
        }
        return hits;
    }

    /// <summary>The fraction of <paramref name="hits"/> that are true.</summary>
    public static double Accuracy(IReadOnlyList<bool> hits) => hits.Count == 0 ? 0 : (double)hits.Count(h => h) / hits.Count;

    private static double Dot(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embeddings of {a.Length} and {b.Length} dimensions.");
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
