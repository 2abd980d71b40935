namespace Trainer.Evaluation.Mteb;

/// <summary>
/// scikit-learn's <c>average_precision_score</c>: the precision-recall curve taken at every distinct score (a threshold
/// admits all items scoring at least it, so tied items enter together), AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ. No interpolation.
/// </summary>
public static class AveragePrecision
{
    public static double Score(IReadOnlyList<bool> relevant, IReadOnlyList<double> scores)
    {
        if (relevant.Count != scores.Count) throw new ArgumentException($"{relevant.Count} labels against {scores.Count} scores.");
        int positives = relevant.Count(r => r);
        if (positives == 0) return double.NaN; // sklearn warns and returns nan-like 0/0 for no positives
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double ap = 0, recallBefore = 0;
        int tp = 0, fp = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end < order.Length && scores[order[end]] == scores[order[start]])
            {
                if (relevant[order[end]]) tp++; else fp++;
                end++;
            }
            double recall = (double)tp / positives, precision = (double)tp / (tp + fp);
            ap += (recall - recallBefore) * precision;
            recallBefore = recall;
            start = end;
        }
        return ap;
    }
}
