namespace Trainer.Evaluation.Mteb;

/// <summary>
/// scikit-learn's <c>v_measure_score</c> (β = 1): the harmonic mean of homogeneity h = 1 − H(C|K)/H(C) and completeness
/// c = 1 − H(K|C)/H(K), natural logarithms, h = 1 when H(C) = 0 and c = 1 when H(K) = 0, and 0 when h + c = 0.
/// </summary>
public static class VMeasure
{
    public static double Score(IReadOnlyList<string> truth, IReadOnlyList<int> predicted)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} labels against {predicted.Count} clusters.");
        int n = truth.Count;
        if (n == 0) return 1.0;
        var joint = new Dictionary<(string, int), int>();
        var classes = new Dictionary<string, int>(StringComparer.Ordinal);
        var clusters = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            joint[(truth[i], predicted[i])] = joint.GetValueOrDefault((truth[i], predicted[i])) + 1;
            classes[truth[i]] = classes.GetValueOrDefault(truth[i]) + 1;
            clusters[predicted[i]] = clusters.GetValueOrDefault(predicted[i]) + 1;
        }
        double Entropy(IEnumerable<int> counts) => -counts.Sum(c => (double)c / n * Math.Log((double)c / n));
        double hc = Entropy(classes.Values), hk = Entropy(clusters.Values);
        double hcGivenK = -joint.Sum(kv => (double)kv.Value / n * Math.Log((double)kv.Value / clusters[kv.Key.Item2]));
        double hkGivenC = -joint.Sum(kv => (double)kv.Value / n * Math.Log((double)kv.Value / classes[kv.Key.Item1]));
        double homogeneity = hc == 0 ? 1.0 : 1 - hcGivenK / hc;
        double completeness = hk == 0 ? 1.0 : 1 - hkGivenC / hk;
        return homogeneity + completeness == 0 ? 0 : 2 * homogeneity * completeness / (homogeneity + completeness);
    }
}
