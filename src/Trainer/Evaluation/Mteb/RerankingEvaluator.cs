namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Reranking as MTEB's <c>RerankingEvaluator</c>: columns <c>query</c> (a string, or a list whose best-matching member
/// scores each candidate), <c>positive</c> and <c>negative</c> (lists of texts). Rows with no positive or no negative are
/// dropped, as MTEB drops them. Each query's candidates (positives, then negatives) are scored by cosine similarity; per
/// query, AP over the candidate list (scikit-learn's <c>average_precision_score</c>) and the reciprocal rank of the first
/// positive within the top 10 (0 beyond); <c>map</c> and <c>mrr</c> are their means, and the main score is <c>map</c>.
/// Ties in the ranking keep the candidates' order (MTEB's <c>torch.argsort</c> leaves them unspecified). MTEB's nAUC
/// confidence measures are not computed.
/// </summary>
public static class RerankingEvaluator
{
    public const int MrrDepth = 10;

    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task)
    {
        var samples = rows.Select(r => (Queries: r.IsList("query") ? r.Texts("query") : [r.Text("query")], Positive: r.Texts("positive"), Negative: r.Texts("negative")))
                          .Where(s => s.Positive.Count > 0 && s.Negative.Count > 0).ToList();
        if (samples.Count == 0) throw new InvalidDataException("no row has both a positive and a negative candidate; reranking has nothing to score.");
        var queries = encoder.Encode(samples.SelectMany(s => s.Queries).ToList(), task.Instruction, task.Normalize);
        var docs = encoder.Encode(samples.SelectMany(s => s.Positive.Concat(s.Negative)).ToList(), task.Instruction, task.Normalize);
        double apSum = 0, mrrSum = 0;
        int q = 0, d = 0;
        foreach (var (sampleQueries, positive, negative) in samples)
        {
            int count = positive.Count + negative.Count;
            var scores = Enumerable.Range(d, count).Select(j => Enumerable.Range(q, sampleQueries.Count).Max(i => Similarity.Cosine(queries[i], docs[j]))).ToList();
            var relevant = Enumerable.Range(0, count).Select(j => j < positive.Count).ToList();
            apSum += AveragePrecision.Score(relevant, scores);
            mrrSum += ReciprocalRank(relevant, scores, MrrDepth);
            q += sampleQueries.Count;
            d += count;
        }
        double map = apSum / samples.Count;
        return new SortedDictionary<string, object>(StringComparer.Ordinal) { ["map"] = map, ["mrr"] = mrrSum / samples.Count, ["main_score"] = map };
    }

    /// <summary>1 / rank of the first relevant candidate among the top <paramref name="depth"/> by score (stable), else 0.</summary>
    public static double ReciprocalRank(IReadOnlyList<bool> relevant, IReadOnlyList<double> scores, int depth)
    {
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).Take(depth).ToList();
        for (int rank = 0; rank < order.Count; rank++)
            if (relevant[order[rank]]) return 1.0 / (rank + 1);
        return 0;
    }
}
