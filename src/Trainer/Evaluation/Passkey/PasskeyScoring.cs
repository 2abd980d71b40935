namespace Trainer.Evaluation.Passkey;

/// <summary>
/// Top-1 accuracy of the passkey test: query i is answered when document i scores strictly higher (cosine, i.e. the
/// dot product of the unit vectors <see cref="Inference.TextEmbedder"/> gives) than every other candidate. A tie for
/// the top counts as a miss, so a model that embeds every candidate alike scores 0, not 1 / candidates.
/// </summary>
public static class PasskeyScoring
{
    /// <summary>For each query, whether its own document (same index) is the single best.</summary>
    public static bool[] Hits(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> documents) =>
        Winners(queries, documents).Select((w, q) => w == q).ToArray();

    /// <summary>
    /// For each query, the document that scores strictly highest, or −1 when two or more tie for the top. How many
    /// different documents win tells a model that ranks every query alike (one winner) from one that guesses.
    /// </summary>
    public static int[] Winners(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> documents)
    {
        if (queries.Count != documents.Count)
            throw new ArgumentException($"{queries.Count} queries for {documents.Count} documents; query i asks for document i.");
        var winners = new int[queries.Count];
        for (int q = 0; q < queries.Count; q++)
        {
            int best = -1;
            double top = double.NegativeInfinity;
            bool tied = false;
            for (int d = 0; d < documents.Count; d++)
            {
                double score = Dot(queries[q], documents[d]);
                if (score > top) (best, top, tied) = (d, score, false);
                else if (score == top) tied = true;
            }
            winners[q] = tied ? -1 : best;
        }
        return winners;
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
