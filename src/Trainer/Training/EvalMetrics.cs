namespace Trainer.Training;

/// <summary>
/// One evaluation during training, after <see cref="Step"/> optimizer steps (0: before the first): the mean of each
/// retrieval measure over <see cref="Queries"/> queries, keyed by <see cref="Evaluation.RetrievalMetric.Name"/>, and
/// the wall time it took. With an MTEB task (<see cref="Task"/> set): its type's measures as MTEB names them, with
/// <c>main_score</c>, averaged over subsets, and <see cref="Queries"/> the number of texts embedded (retrieval: queries).
/// </summary>
public sealed record EvalMetrics(int Step, string Split, IReadOnlyDictionary<string, double> Mean, int Queries, double Seconds)
{
    /// <summary>The MTEB task evaluated, or null for BEIR retrieval.</summary>
    public string? Task { get; init; }
}
