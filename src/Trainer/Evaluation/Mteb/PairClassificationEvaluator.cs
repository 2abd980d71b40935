namespace Trainer.Evaluation.Mteb;

/// <summary>
/// PairClassification as MTEB's <c>PairClassificationEvaluator</c>: columns <c>sentence1</c>, <c>sentence2</c> and
/// <c>labels</c> (or <c>label</c>), 1 for a duplicate pair and 0 for not, either one pair per row or, as MTEB's older hub
/// files do, whole lists in one row. For each score (cosine similarity, dot product, and Euclidean and Manhattan
/// distance, where smaller means more similar) it reports:
/// <list type="bullet">
/// <item><c>ap</c>: average precision of the labels ranked by the score, over every threshold (scikit-learn's
/// <c>average_precision_score</c>, <see cref="AveragePrecision"/>);</item>
/// <item><c>accuracy</c>, <c>f1</c>, <c>precision</c>, <c>recall</c>: the best over thresholds placed midway between
/// neighbouring scores (MTEB's <c>find_best_acc_and_threshold</c>, <c>find_best_f1_and_threshold</c>), with those thresholds.</item>
/// </list>
/// Keys are prefixed <c>cosine_</c>, <c>dot_</c>, <c>euclidean_</c>, <c>manhattan_</c>, and <c>similarity_</c> (the
/// model's own similarity: cosine); <c>max_*</c> is the best over them, and the main score is <c>max_ap</c>, as MTEB 1.12
/// writes it.
/// </summary>
public static class PairClassificationEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task)
    {
        var (first, second, labels) = Pairs(rows);
        var e1 = encoder.Encode(first, task.Instruction, task.Normalize);
        var e2 = encoder.Encode(second, task.Instruction, task.Normalize);
        var result = new SortedDictionary<string, object>(StringComparer.Ordinal);
        var scores = new (string Name, Func<float[], float[], double> Score, bool HigherIsCloser)[]
        {
            ("cosine", Similarity.Cosine, true), ("dot", Similarity.Dot, true),
            ("euclidean", Similarity.Euclidean, false), ("manhattan", Similarity.Manhattan, false),
        };
        foreach (var (name, score, higher) in scores)
        {
            var values = e1.Zip(e2, score).ToList();
            foreach (var (metric, value) in Metrics(values, labels, higher)) result[$"{name}_{metric}"] = value;
        }
        foreach (var metric in new[] { "accuracy", "accuracy_threshold", "ap", "f1", "f1_threshold", "precision", "recall" })
            result[$"similarity_{metric}"] = result[$"cosine_{metric}"];
        foreach (var metric in new[] { "accuracy", "ap", "f1", "precision", "recall" })
            result[$"max_{metric}"] = scores.Max(s => (double)result[$"{s.Name}_{metric}"]);
        result["main_score"] = result["max_ap"];
        return result;
    }

    /// <summary>One pair per row, or each row a list of pairs.</summary>
    private static (List<string> First, List<string> Second, List<bool> Labels) Pairs(IReadOnlyList<MtebRow> rows)
    {
        var (first, second, labels) = (new List<string>(), new List<string>(), new List<bool>());
        foreach (var row in rows)
        {
            string column = row.Has("labels") ? "labels" : "label";
            if (row.IsList("sentence1"))
            {
                var a = row.Texts("sentence1");
                var b = row.Texts("sentence2");
                var l = row.Numbers(column);
                if (a.Count != b.Count || a.Count != l.Count)
                    throw new InvalidDataException($"{row.Where}: columns \"sentence1\", \"sentence2\" and \"{column}\" hold {a.Count}, {b.Count} and {l.Count} items; they must match.");
                first.AddRange(a);
                second.AddRange(b);
                labels.AddRange(l.Select(v => Binary(v, row, column)));
            }
            else
            {
                first.Add(row.Text("sentence1"));
                second.Add(row.Text("sentence2"));
                labels.Add(Binary(row.Number(column), row, column));
            }
        }
        return (first, second, labels);
    }

    private static bool Binary(double value, MtebRow row, string column) => value switch
    {
        1 => true,
        0 => false,
        _ => throw new InvalidDataException($"{row.Where}, column \"{column}\": a label must be 0 or 1, found {value}."),
    };

    /// <summary>The measures of one score; <paramref name="higherIsCloser"/>: similarity (true) or distance (false).</summary>
    public static IEnumerable<(string Name, double Value)> Metrics(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, bool higherIsCloser)
    {
        var (accuracy, accuracyThreshold) = BestAccuracy(scores, labels, higherIsCloser);
        var (f1, precision, recall, f1Threshold) = BestF1(scores, labels, higherIsCloser);
        var signed = scores.Select(s => higherIsCloser ? s : -s).ToList();
        return
        [
            ("accuracy", accuracy), ("accuracy_threshold", accuracyThreshold),
            ("ap", AveragePrecision.Score(labels, signed)),
            ("f1", f1), ("f1_threshold", f1Threshold), ("precision", precision), ("recall", recall),
        ];
    }

    /// <summary>Rows sorted most similar first (a stable sort, as Python's), the threshold cut after each but the last.</summary>
    private static int[] Sorted(IReadOnlyList<double> scores, bool higherIsCloser) =>
        (higherIsCloser ? Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]) : Enumerable.Range(0, scores.Count).OrderBy(i => scores[i])).ToArray();

    public static (double Accuracy, double Threshold) BestAccuracy(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, bool higherIsCloser)
    {
        var order = Sorted(scores, higherIsCloser);
        double best = 0, threshold = -1;
        int positives = 0, remainingNegatives = labels.Count(l => !l);
        for (int i = 0; i < order.Length - 1; i++)
        {
            if (labels[order[i]]) positives++; else remainingNegatives--;
            double accuracy = (double)(positives + remainingNegatives) / labels.Count;
            if (accuracy > best) (best, threshold) = (accuracy, (scores[order[i]] + scores[order[i + 1]]) / 2);
        }
        return (best, threshold);
    }

    public static (double F1, double Precision, double Recall, double Threshold) BestF1(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, bool higherIsCloser)
    {
        var order = Sorted(scores, higherIsCloser);
        double bestF1 = 0, bestPrecision = 0, bestRecall = 0, threshold = 0;
        int extracted = 0, correct = 0, duplicates = labels.Count(l => l);
        for (int i = 0; i < order.Length - 1; i++)
        {
            extracted++;
            if (labels[order[i]]) correct++;
            if (correct == 0) continue;
            double precision = (double)correct / extracted, recall = (double)correct / duplicates;
            double f1 = 2 * precision * recall / (precision + recall);
            if (f1 > bestF1) (bestF1, bestPrecision, bestRecall, threshold) = (f1, precision, recall, (scores[order[i]] + scores[order[i + 1]]) / 2);
        }
        return (bestF1, bestPrecision, bestRecall, threshold);
    }
}
