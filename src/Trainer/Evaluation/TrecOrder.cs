namespace Trainer.Evaluation;

/// <summary>
/// The order in which trec_eval reads a run (<c>form_res_rels.c</c>, <c>comp_sim_docno</c>): score descending, and
/// equal scores by document id in descending <c>strcmp</c> order, i.e. by UTF-8 bytes, which is Unicode code point
/// order. The rank column of a run file plays no part. Exact search, the run writer and the metrics all use this
/// order, so a run file evaluated by trec_eval gives the numbers computed here.
/// </summary>
public sealed class TrecOrder : IComparer<ScoredDoc>
{
    public static TrecOrder Instance { get; } = new();

    private TrecOrder()
    {
    }

    public int Compare(ScoredDoc x, ScoredDoc y)
    {
        int byScore = y.Score.CompareTo(x.Score);
        return byScore != 0 ? byScore : CompareIds(y.DocId, x.DocId);
    }

    /// <summary>
    /// <c>strcmp</c> of the ids' UTF-8 bytes. That is code point order; .NET's ordinal comparison compares UTF-16 code
    /// units instead, which puts U+E000..U+FFFF after the surrogate pairs of U+10000 and above, so the first
    /// differing chars are remapped when both are at or above U+D800.
    /// </summary>
    public static int CompareIds(string a, string b)
    {
        int length = Math.Min(a.Length, b.Length);
        for (int i = 0; i < length; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            if (x >= 0xD800 && y >= 0xD800) return CodePointRank(x).CompareTo(CodePointRank(y));
            return x.CompareTo(y);
        }
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>For a char at or above U+D800: surrogates (code points from U+10000) rank above U+E000..U+FFFF.</summary>
    private static int CodePointRank(char c) => c >= '\uE000' ? c - 0x800 : c + 0x2000;
}
