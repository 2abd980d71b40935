namespace Trainer.Evaluation;

/// <summary>
/// The retrieval measures reported for a split, each computed per query as trec_eval does (see
/// <see cref="JudgedRanking"/>) and averaged as BEIR's <c>EvaluateRetrieval</c> (pytrec_eval) averages:
/// <list type="bullet">
/// <item><c>ndcg_at_10</c> = trec_eval <c>ndcg_cut_10</c>; <c>recall_at_100</c> = <c>recall_100</c>;
/// <c>map_at_100</c> = <c>map_cut_100</c>.</item>
/// <item><c>mrr_at_10</c> = 1 / rank of the first relevant document if it is in the first 10, else 0: the per-query
/// MRR@k of BEIR's and MTEB's <c>mrr</c>, equal to trec_eval's (uncut) <c>recip_rank</c> of the run cut to its first
/// 10. BEIR's <c>mrr</c> orders tied scores arbitrarily and divides by the number of qrels queries; here ties follow
/// <see cref="TrecOrder"/> like every other measure, and the mean is taken like the others.</item>
/// <item>The mean is over the queries that are in both the qrels and the run (trec_eval's default and
/// pytrec_eval's). A query of the run without qrels is ignored. With <c>complete</c> (trec_eval <c>-c</c>), a
/// qrels query missing from the run scores 0 and the mean is over all qrels queries. A query whose qrels hold no
/// relevant document is evaluated (all measures 0), as by trec_eval.</item>
/// </list>
/// The measures at 100 need the run to hold the top 100 documents per query (or the whole corpus).
/// </summary>
public static class RetrievalMetrics
{
    public static IReadOnlyList<RetrievalMetric> Reported { get; } =
    [
        new("ndcg_at_10", "nDCG@10", r => r.Ndcg(10)),
        new("recall_at_100", "Recall@100", r => r.Recall(100)),
        new("mrr_at_10", "MRR@10", r => r.ReciprocalRank(10)),
        new("map_at_100", "MAP@100", r => r.AveragePrecision(100)),
    ];

    /// <param name="qrels">Query id → document id → grade.</param>
    /// <param name="run">Query id → retrieved documents (any order; ranked by <see cref="TrecOrder"/>).</param>
    /// <param name="complete">trec_eval <c>-c</c>: average over all qrels queries, a missing one scoring 0.</param>
    public static RetrievalReport Evaluate(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels,
        IReadOnlyDictionary<string, IReadOnlyList<ScoredDoc>> run,
        bool complete = false)
    {
        var queryIds = new List<string>();
        var perQuery = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var (queryId, judgments) in qrels)
        {
            if (!run.TryGetValue(queryId, out var docs) && !complete) continue;
            JudgedRanking judged;
            try
            {
                judged = JudgedRanking.Judge(judgments, docs ?? []);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"query \"{queryId}\": {e.Message}", e);
            }
            queryIds.Add(queryId);
            perQuery[queryId] = Reported.ToDictionary(m => m.Name, m => m.PerQuery(judged), StringComparer.Ordinal);
        }
        if (queryIds.Count == 0) throw new ArgumentException("no query is in both the qrels and the run; nothing to evaluate.");
        var mean = Reported.ToDictionary(m => m.Name, m => queryIds.Sum(q => perQuery[q][m.Name]) / queryIds.Count, StringComparer.Ordinal);
        return new RetrievalReport(queryIds, mean, perQuery);
    }
}
