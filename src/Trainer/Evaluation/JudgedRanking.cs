namespace Trainer.Evaluation;

/// <summary>
/// One query's run put in <see cref="TrecOrder"/> and judged against its qrels, with the measures of trec_eval
/// (version 9.0.4 and later, which pytrec_eval and BEIR use) computed from it exactly as trec_eval does:
/// <list type="bullet">
/// <item>A document is relevant when its grade is ≥ 1 (trec_eval's default <c>-l 1</c>). A retrieved document the
/// qrels do not name, or name with a negative grade (judged "unjudged"), is not relevant.</item>
/// <item>Recall and average precision divide by the number of relevant documents in the qrels, retrieved or not
/// (also those missing from the corpus); both are 0 for a query without relevant documents.</item>
/// <item>A cutoff beyond the end of the run counts the missing ranks as not relevant (P divides by the cutoff).</item>
/// <item>nDCG (<c>ndcg_cut</c>): gain = the grade (grades ≤ 0 gain nothing), discount log2(rank + 1); the ideal DCG
/// ranks all judged documents of the qrels by grade; 0 when no document has a positive grade.</item>
/// </list>
/// </summary>
public sealed class JudgedRanking
{
    /// <summary>Cutoff meaning "the whole run" (trec_eval's uncut <c>map</c> and <c>recip_rank</c>).</summary>
    public const int Uncut = int.MaxValue;

    private readonly int[] _grades;
    private readonly int[] _idealGains;

    private JudgedRanking(IReadOnlyList<ScoredDoc> ranking, int[] grades, int[] idealGains, int numRelevant)
    {
        (Ranking, _grades, _idealGains, NumRelevant) = (ranking, grades, idealGains, numRelevant);
    }

    /// <summary>The run in <see cref="TrecOrder"/>; rank r is index r − 1.</summary>
    public IReadOnlyList<ScoredDoc> Ranking { get; }

    /// <summary>Documents in the qrels with grade ≥ 1 (trec_eval <c>num_rel</c>).</summary>
    public int NumRelevant { get; }

    /// <summary>Relevant documents in the whole run (trec_eval <c>num_rel_ret</c>).</summary>
    public int NumRelevantRetrieved => RelevantWithin(Uncut);

    /// <param name="judgments">The query's qrels: document id → grade.</param>
    /// <param name="run">The query's retrieved documents in any order; ids must be unique (trec_eval refuses duplicates).</param>
    public static JudgedRanking Judge(IReadOnlyDictionary<string, int> judgments, IEnumerable<ScoredDoc> run)
    {
        var ranking = run.ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in ranking)
        {
            if (!seen.Add(doc.DocId)) throw new ArgumentException($"document \"{doc.DocId}\" appears twice in one query's run; trec_eval refuses duplicates.");
            if (double.IsNaN(doc.Score)) throw new ArgumentException($"document \"{doc.DocId}\" has a NaN score.");
        }
        Array.Sort(ranking, TrecOrder.Instance);
        var grades = ranking.Select(d => judgments.TryGetValue(d.DocId, out int g) ? g : -1).ToArray();
        var idealGains = judgments.Values.Where(g => g > 0).OrderDescending().ToArray();
        return new JudgedRanking(ranking, grades, idealGains, judgments.Values.Count(g => g >= 1));
    }

    /// <summary>trec_eval <c>P_k</c>: relevant documents in the first k ranks ÷ k.</summary>
    public double Precision(int k) => (double)RelevantWithin(k) / k;

    /// <summary>trec_eval <c>recall_k</c>: relevant documents in the first k ranks ÷ <see cref="NumRelevant"/>.</summary>
    public double Recall(int k) => NumRelevant == 0 ? 0 : (double)RelevantWithin(k) / NumRelevant;

    /// <summary>
    /// trec_eval <c>map_cut_k</c> (<c>map</c> with <see cref="Uncut"/>): the sum, over relevant documents in the first
    /// k ranks, of the precision at their rank, ÷ <see cref="NumRelevant"/>.
    /// </summary>
    public double AveragePrecision(int k = Uncut)
    {
        if (NumRelevant == 0) return 0;
        double sum = 0;
        int found = 0;
        for (int i = 0; i < Depth(k); i++)
        {
            if (_grades[i] >= 1) sum += (double)++found / (i + 1);
        }
        return sum / NumRelevant;
    }

    /// <summary>
    /// 1 / rank of the first relevant document if it is within the first k ranks, else 0. With <see cref="Uncut"/>
    /// this is trec_eval's <c>recip_rank</c>; with k it is MRR@k's per-query value, the same as <c>recip_rank</c> of
    /// the run cut to its first k ranks.
    /// </summary>
    public double ReciprocalRank(int k = Uncut)
    {
        for (int i = 0; i < Depth(k); i++)
        {
            if (_grades[i] >= 1) return 1.0 / (i + 1);
        }
        return 0;
    }

    /// <summary>trec_eval <c>ndcg_cut_k</c>: DCG of the first k ranks ÷ DCG of the ideal ranking's first k.</summary>
    public double Ndcg(int k)
    {
        double dcg = 0, ideal = 0;
        for (int i = 0; i < Depth(k); i++)
        {
            if (_grades[i] > 0) dcg += _grades[i] / Math.Log2(i + 2);
        }
        for (int i = 0; i < Math.Min(k, _idealGains.Length); i++) ideal += _idealGains[i] / Math.Log2(i + 2);
        return ideal > 0 ? dcg / ideal : 0;
    }

    private int Depth(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "a cutoff must be at least 1.");
        return Math.Min(k, _grades.Length);
    }

    private int RelevantWithin(int k)
    {
        int count = 0;
        for (int i = 0; i < Depth(k); i++)
        {
            if (_grades[i] >= 1) count++;
        }
        return count;
    }
}
