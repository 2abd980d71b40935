namespace Trainer.Evaluation.Mteb;

/// <summary>
/// scikit-learn's accuracy and per-label precision, recall and F1 averaged "macro" (the unweighted mean over labels) or
/// "weighted" (by each label's count in the truth), over the labels found in the truth or the predictions, a 0/0 scoring 0
/// (<c>zero_division=0</c>).
/// </summary>
public static class LabelScores
{
    public static double Accuracy<T>(IReadOnlyList<T> truth, IReadOnlyList<T> predicted) =>
        truth.Count == 0 ? 0 : (double)truth.Zip(predicted).Count(p => EqualityComparer<T>.Default.Equals(p.First, p.Second)) / truth.Count;

    /// <summary>(precision, recall, F1) averaged over labels; <paramref name="weighted"/>: by support, else uniformly.</summary>
    public static (double Precision, double Recall, double F1) Averaged<T>(IReadOnlyList<T> truth, IReadOnlyList<T> predicted, bool weighted) where T : notnull
    {
        var labels = truth.Concat(predicted).Distinct().ToList();
        var tp = labels.ToDictionary(l => l, _ => 0);
        var predictedCount = labels.ToDictionary(l => l, _ => 0);
        var support = labels.ToDictionary(l => l, _ => 0);
        for (int i = 0; i < truth.Count; i++)
        {
            support[truth[i]]++;
            predictedCount[predicted[i]]++;
            if (EqualityComparer<T>.Default.Equals(truth[i], predicted[i])) tp[truth[i]]++;
        }
        double p = 0, r = 0, f = 0, total = 0;
        foreach (var label in labels)
        {
            double precision = predictedCount[label] == 0 ? 0 : (double)tp[label] / predictedCount[label];
            double recall = support[label] == 0 ? 0 : (double)tp[label] / support[label];
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            double weight = weighted ? support[label] : 1;
            p += weight * precision;
            r += weight * recall;
            f += weight * f1;
            total += weight;
        }
        return total == 0 ? (0, 0, 0) : (p / total, r / total, f / total);
    }
}
