namespace Trainer.Evaluation;

/// <summary>
/// The measures of one split: per query (in <see cref="QueryIds"/> order) and their mean over those queries.
/// Keys are the <see cref="RetrievalMetric.Name"/>s of <see cref="RetrievalMetrics.Reported"/>.
/// </summary>
public sealed record RetrievalReport(
    IReadOnlyList<string> QueryIds,
    IReadOnlyDictionary<string, double> Mean,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerQuery);
