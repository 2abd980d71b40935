namespace Trainer.Evaluation;

/// <summary>
/// What <see cref="RetrievalEvaluator"/> found for one split: the measures, and per evaluated query (in
/// <see cref="QueryIds"/> order) its top-k documents in <see cref="TrecOrder"/>, ready for <see cref="TrecRunFile"/>.
/// </summary>
/// <param name="DocumentSeconds">Wall time spent embedding the corpus (tokenizing excluded).</param>
public sealed record RetrievalEvaluation(
    string Split,
    RetrievalReport Report,
    IReadOnlyList<string> QueryIds,
    IReadOnlyList<IReadOnlyList<ScoredDoc>> Results,
    int Documents,
    double DocumentSeconds)
{
    public double DocumentsPerSecond => Documents / Math.Max(DocumentSeconds, 1e-9);
}
