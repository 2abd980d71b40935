namespace Trainer.Evaluation.Mteb;

/// <summary>
/// One task's evaluation in MTEB's terms: per split, one score set per subset (<c>hf_subset</c>), each holding
/// <c>main_score</c> and the type's measures; the time it took; the data's revision (a digest of the files read).
/// </summary>
public sealed record MtebResult(string TaskName, MtebTaskType Type, string DatasetRevision, double EvaluationSeconds,
    IReadOnlyDictionary<string, IReadOnlyList<SortedDictionary<string, object>>> Scores)
{
    /// <summary>The main score of a split: the mean over its subsets, as MTEB's leaderboard averages them.</summary>
    public double MainScore(string split) => Scores[split].Average(s => (double)s["main_score"]);

    /// <summary>A split's measures averaged over its subsets (numbers only), keyed as in the result file.</summary>
    public IReadOnlyDictionary<string, double> Mean(string split) =>
        Scores[split][0].Where(kv => kv.Value is double).Select(kv => kv.Key)
            .ToDictionary(key => key, key => Scores[split].Average(s => s[key] is double d ? d : double.NaN), StringComparer.Ordinal);
}
