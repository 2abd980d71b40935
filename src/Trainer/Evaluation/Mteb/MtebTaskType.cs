namespace Trainer.Evaluation.Mteb;

/// <summary>The task types of MTEB that the e5-mistral paper reports (its Table 1), each scored by one evaluator.</summary>
public enum MtebTaskType
{
    Retrieval,
    Reranking,
    Sts,
    PairClassification,
    Classification,
    Clustering,
    Summarization,
    BitextMining,
}

/// <summary>MTEB's spelling of each type ("STS", "PairClassification", …) and its parse.</summary>
public static class MtebTaskTypes
{
    public static IReadOnlyList<MtebTaskType> All { get; } = Enum.GetValues<MtebTaskType>();

    /// <summary>The name MTEB gives the type (its <c>TaskMetadata.type</c>).</summary>
    public static string Name(MtebTaskType type) => type == MtebTaskType.Sts ? "STS" : type.ToString();

    /// <summary>The measure MTEB reports as the type's <c>main_score</c>.</summary>
    public static string MainMetric(MtebTaskType type) => type switch
    {
        MtebTaskType.Retrieval => "ndcg_at_10",
        MtebTaskType.Reranking => "map",
        MtebTaskType.Sts or MtebTaskType.Summarization => "cosine_spearman",
        MtebTaskType.PairClassification => "max_ap",
        MtebTaskType.Classification => "accuracy",
        MtebTaskType.Clustering => "v_measure",
        MtebTaskType.BitextMining => "f1",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>A type by MTEB's name, case-insensitively.</summary>
    /// <exception cref="ArgumentException">Not one of the eight types; the message lists them.</exception>
    public static MtebTaskType Parse(string name, string option)
    {
        foreach (var type in All)
            if (string.Equals(Name(type), name, StringComparison.OrdinalIgnoreCase)) return type;
        throw new ArgumentException($"{option} = \"{name}\" is not a task type; use one of {string.Join(", ", All.Select(Name))}.");
    }
}
