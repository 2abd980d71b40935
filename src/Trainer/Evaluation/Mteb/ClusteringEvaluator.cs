namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Clustering as MTEB's <c>AbsTaskClustering</c> with its <c>ClusteringEvaluator</c>: columns <c>sentences</c> and
/// <c>labels</c>. In MTEB's hub files each row is one clustering set (lists of texts and labels); a file with one text
/// and label per row is one set. Each set is clustered by <see cref="MiniBatchKMeans"/> with k = its number of distinct
/// labels (batch 500) and scored by V-measure against the labels; <c>v_measure</c> is the mean over the sets,
/// <c>v_measure_std</c> their population standard deviation, and the main score is <c>v_measure</c>.
/// </summary>
public static class ClusteringEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task, MtebOptions options)
    {
        var sets = new List<(IReadOnlyList<string> Texts, IReadOnlyList<string> Labels, string Where)>();
        if (rows[0].IsList("sentences"))
        {
            foreach (var row in rows)
            {
                var texts = row.Texts("sentences");
                var labels = row.Labels("labels");
                if (texts.Count != labels.Count)
                    throw new InvalidDataException($"{row.Where}: column \"sentences\" holds {texts.Count} texts but \"labels\" {labels.Count}; they must match.");
                sets.Add((texts, labels, row.Where));
            }
        }
        else
        {
            sets.Add((rows.Select(r => r.Text("sentences")).ToList(), rows.Select(r => r.Label("labels")).ToList(), rows[0].Where));
        }
        var scores = new List<double>();
        foreach (var (texts, labels, where) in sets)
        {
            if (texts.Count == 0) throw new InvalidDataException($"{where}: an empty clustering set.");
            var embeddings = encoder.Encode(texts, task.Instruction, task.Normalize);
            var clusters = MiniBatchKMeans.Cluster(embeddings, labels.Distinct(StringComparer.Ordinal).Count(), options.Seed);
            scores.Add(VMeasure.Score(labels, clusters));
        }
        double mean = scores.Average();
        double std = Math.Sqrt(scores.Average(s => (s - mean) * (s - mean)));
        return new SortedDictionary<string, object>(StringComparer.Ordinal) { ["v_measure"] = mean, ["v_measure_std"] = std, ["main_score"] = mean };
    }
}
