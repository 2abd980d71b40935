namespace Trainer.Training;

/// <summary>
/// One evaluation during training, after <see cref="Step"/> optimizer steps (0: before the first): the mean of each
/// retrieval measure over <see cref="Queries"/> queries, keyed by <see cref="Evaluation.RetrievalMetric.Name"/>, and
/// the wall time it took.
/// </summary>
public sealed record EvalMetrics(int Step, string Split, IReadOnlyDictionary<string, double> Mean, int Queries, double Seconds);
