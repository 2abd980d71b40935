namespace Trainer.Evaluation.Mteb;

/// <summary>
/// STS as MTEB's <c>STSEvaluator</c>: columns <c>sentence1</c>, <c>sentence2</c>, <c>score</c>; Pearson and Spearman of
/// the gold scores against cosine similarity, and against the negated Euclidean and Manhattan distances. The main score
/// is <c>cosine_spearman</c>. (MTEB rescales the gold scores to [0, 1] first; a linear map changes neither correlation.)
/// </summary>
public static class StsEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task)
    {
        var gold = rows.Select(r => r.Number("score")).ToList();
        var first = encoder.Encode(rows.Select(r => r.Text("sentence1")).ToList(), task.Instruction, task.Normalize);
        var second = encoder.Encode(rows.Select(r => r.Text("sentence2")).ToList(), task.Instruction, task.Normalize);
        var cosine = first.Zip(second, Similarity.Cosine).ToList();
        var euclidean = first.Zip(second, (a, b) => -Similarity.Euclidean(a, b)).ToList();
        var manhattan = first.Zip(second, (a, b) => -Similarity.Manhattan(a, b)).ToList();
        double spearman = Correlation.Spearman(gold, cosine), pearson = Correlation.Pearson(gold, cosine);
        return new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["cosine_pearson"] = pearson,
            ["cosine_spearman"] = spearman,
            ["euclidean_pearson"] = Correlation.Pearson(gold, euclidean),
            ["euclidean_spearman"] = Correlation.Spearman(gold, euclidean),
            ["manhattan_pearson"] = Correlation.Pearson(gold, manhattan),
            ["manhattan_spearman"] = Correlation.Spearman(gold, manhattan),
            ["pearson"] = pearson,
            ["spearman"] = spearman,
            ["main_score"] = spearman,
        };
    }
}
