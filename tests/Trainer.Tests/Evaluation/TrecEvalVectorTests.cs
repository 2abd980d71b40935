using System.Globalization;
using System.Text.RegularExpressions;
using Trainer.Evaluation;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// NIST trec_eval's own test vectors (Fixtures/trec_eval): its qrels and run, and the values it prints, per query
/// (out.test.aq) and overall (out.test, out.test.a, out.test.aq). Every measure of those files that
/// <see cref="JudgedRanking"/> computes is compared to the printed 4 decimals, at all of trec_eval's default cutoffs.
/// </summary>
public partial class TrecEvalVectorTests
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels = ReadQrels(TestPaths.Fixture("trec_eval", "qrels.test"));
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<ScoredDoc>> Run = TrecRunFile.Read(TestPaths.Fixture("trec_eval", "results.test"));

    [GeneratedRegex(@"^(ndcg_cut|recall|map_cut|P)_(\d+)$")]
    private static partial Regex CutMeasure();

    /// <summary>The value of one trec_eval measure for a query's judged run, or null for a measure not implemented.</summary>
    private static double? Measure(JudgedRanking r, string name)
    {
        var cut = CutMeasure().Match(name);
        if (cut.Success)
        {
            int k = int.Parse(cut.Groups[2].Value, CultureInfo.InvariantCulture);
            return cut.Groups[1].Value switch
            {
                "ndcg_cut" => r.Ndcg(k),
                "recall" => r.Recall(k),
                "map_cut" => r.AveragePrecision(k),
                _ => r.Precision(k),
            };
        }
        return name switch
        {
            "map" => r.AveragePrecision(),
            "recip_rank" => r.ReciprocalRank(),
            "num_rel" => r.NumRelevant,
            "num_ret" => r.Ranking.Count,
            "num_rel_ret" => r.NumRelevantRetrieved,
            _ => null,
        };
    }

    [Theory]
    [InlineData("out.test", 14)]
    [InlineData("out.test.a", 41)]
    [InlineData("out.test.aq", 41)]
    public void Overall_values_match_trec_eval(string file, int expectedCompared)
    {
        var judged = Qrels.Keys.Select(q => JudgedRanking.Judge(Qrels[q], Run[q])).ToList();
        int compared = 0;
        foreach (var (name, query, value) in ReadOutput(TestPaths.Fixture("trec_eval", file)).Where(row => row.Query == "all"))
        {
            if (Measure(judged[0], name) is null) continue;
            double mean = name.StartsWith("num_", StringComparison.Ordinal)
                ? judged.Sum(r => Measure(r, name)!.Value)
                : judged.Average(r => Measure(r, name)!.Value);
            Assert.True(Math.Round(mean, 4) == value, $"{file}: {name} {query}: computed {mean:F6}, trec_eval {value}");
            compared++;
        }
        Assert.Equal(expectedCompared, compared);
    }

    [Fact]
    public void Per_query_values_match_trec_eval()
    {
        int compared = 0;
        foreach (var (name, query, value) in ReadOutput(TestPaths.Fixture("trec_eval", "out.test.aq")).Where(row => row.Query != "all"))
        {
            var judged = JudgedRanking.Judge(Qrels[query], Run[query]);
            if (Measure(judged, name) is not { } computed) continue;
            Assert.True(Math.Round(computed, 4) == value, $"{name} {query}: computed {computed:F6}, trec_eval {value}");
            compared++;
        }
        Assert.Equal(3 * 41, compared);
    }

    [Fact]
    public void Reported_metrics_match_trec_eval_and_the_documented_values()
    {
        var report = RetrievalMetrics.Evaluate(Qrels, Run);
        Assert.Equal(["301", "302", "303"], report.QueryIds);
        // the values the project's asset notes quote, and out.test.a's recall_100 and map_cut_100
        Assert.Equal(0.3016, Math.Round(report.Mean["ndcg_at_10"], 4));
        Assert.Equal(0.4980, Math.Round(report.Mean["recall_at_100"], 4));
        Assert.Equal(0.1622, Math.Round(report.Mean["map_at_100"], 4));
        // MRR@10: out.test.aq's recip_rank is 1/6 (301), 1 (302) and 1/19 (303); the first relevant document of 303
        // is at rank 19, beyond 10, so MRR@10 = (1/6 + 1 + 0) / 3 (trec_eval -M 10 -m recip_rank prints 0.3889)
        Assert.Equal(1 / 6.0, report.PerQuery["301"]["mrr_at_10"], 12);
        Assert.Equal(1.0, report.PerQuery["302"]["mrr_at_10"], 12);
        Assert.Equal(0.0, report.PerQuery["303"]["mrr_at_10"]);
        Assert.Equal(19, Math.Round(1 / JudgedRanking.Judge(Qrels["303"], Run["303"]).ReciprocalRank()));
        Assert.Equal((1 / 6.0 + 1) / 3, report.Mean["mrr_at_10"], 12);
        Assert.Equal(0.7530, Math.Round(report.PerQuery["302"]["ndcg_at_10"], 4));
    }

    /// <summary>TREC qrels: <c>query iteration doc relevance</c>.</summary>
    internal static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ReadQrels(string path)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var fields in File.ReadLines(path).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 0))
        {
            if (!qrels.TryGetValue(fields[0], out var docs)) qrels[fields[0]] = docs = new(StringComparer.Ordinal);
            docs.Add(fields[2], int.Parse(fields[3], CultureInfo.InvariantCulture));
        }
        return qrels.ToDictionary(q => q.Key, q => (IReadOnlyDictionary<string, int>)q.Value, StringComparer.Ordinal);
    }

    /// <summary>trec_eval output lines: <c>measure \t query \t value</c> (non-numeric values such as runid skipped).</summary>
    private static IEnumerable<(string Name, string Query, double Value)> ReadOutput(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split('\t');
            if (fields.Length == 3 && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                yield return (fields[0].Trim(), fields[1].Trim(), value);
        }
    }
}
