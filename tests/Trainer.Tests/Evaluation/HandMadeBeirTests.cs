using System.Text.Json;
using Trainer.Evaluation;
using static TorchSharp.torch;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// A BEIR folder small enough to evaluate by hand: 12 documents and 5 queries with 4-dimensional unit embeddings
/// whose cosines are exact (entries ±0.5, or a single ±1), so scores tie on purpose. Rankings and measures below were
/// worked out by hand and agree with trec_eval 10.0 (<c>-m ndcg_cut.10 -m recall.100 -m map_cut.100 -m recip_rank</c>,
/// and <c>-M 10 -m recip_rank</c> for MRR@10) run on the run file this test writes.
/// </summary>
public class HandMadeBeirTests
{
    private const float H = 0.5f;

    /// <summary>Embeddings by document id (d1 and d4 are the same vector). A = (+,+,+,+)·0.5, e1 = (1,0,0,0), ….</summary>
    public static readonly IReadOnlyDictionary<string, float[]> DocumentVectors = new Dictionary<string, float[]>
    {
        ["d1"] = [H, H, H, -H],
        ["d2"] = [1, 0, 0, 0],
        ["d3"] = [H, H, -H, -H],
        ["d4"] = [H, H, H, -H],
        ["d5"] = [0, 1, 0, 0],
        ["d6"] = [-H, -H, -H, -H],
        ["d7"] = [H, H, H, H],
        ["d8"] = [H, -H, H, -H],
        ["d9"] = [H, -H, -H, -H],
        ["d10"] = [-H, H, H, H],
        ["d11"] = [0, 0, 0, 1],
        ["d12"] = [-1, 0, 0, 0],
    };

    public static readonly IReadOnlyDictionary<string, float[]> QueryVectors = new Dictionary<string, float[]>
    {
        ["q1"] = [H, H, H, H],
        ["q2"] = [1, 0, 0, 0],
        ["q3"] = [-H, H, H, H],
        ["q4"] = [0, 0, 0, 1],
        ["q5"] = [0, 1, 0, 0],
    };

    /// <summary>
    /// Graded qrels. q1: d7, its best match, is judged not relevant; d99 is not in the corpus. q2: d5 is graded −1
    /// (trec_eval: judged "unjudged", never relevant, no gain). q3: the one relevant document is ranked last.
    /// q4: judged, but nothing relevant. q5 has no qrels at all, so it is skipped.
    /// </summary>
    private static readonly string[] QrelsLines =
    [
        "query-id\tcorpus-id\tscore",
        "q1\td1\t2", "q1\td10\t1", "q1\td12\t1", "q1\td7\t0", "q1\td99\t1",
        "q2\td2\t1", "q2\td3\t2", "q2\td4\t2", "q2\td1\t0", "q2\td5\t-1",
        "q3\td9\t1",
        "q4\td3\t0",
    ];

    /// <summary>
    /// Score descending, ties by id descending in strcmp order ("d9" &gt; "d2" &gt; "d12" &gt; "d11" &gt; "d10" &gt; "d1").
    /// q1 (A): d7 = 1; d1 d2 d4 d5 d10 d11 = 0.5; d3 d8 = 0; d9 d12 = −0.5; d6 = −1.
    /// q2 (e1): d2 = 1; d1 d3 d4 d7 d8 d9 = 0.5; d5 d11 = 0; d6 d10 = −0.5; d12 = −1.
    /// q3: d10 = 1; d5 d7 d11 d12 = 0.5; d1 d4 = 0; d2 d3 d6 d8 = −0.5; d9 = −1.
    /// q4 (e4): d11 = 1; d7 d10 = 0.5; d2 d5 d12 = 0; the other six = −0.5 (nothing relevant).
    /// </summary>
    private static readonly Dictionary<string, string[]> ExpectedRankings = new()
    {
        ["q1"] = ["d7", "d5", "d4", "d2", "d11", "d10", "d1", "d8", "d3", "d9", "d12", "d6"],
        ["q2"] = ["d2", "d9", "d8", "d7", "d4", "d3", "d1", "d5", "d11", "d6", "d10", "d12"],
        ["q3"] = ["d10", "d7", "d5", "d12", "d11", "d4", "d1", "d8", "d6", "d3", "d2", "d9"],
        ["q4"] = ["d11", "d7", "d10", "d5", "d2", "d12", "d9", "d8", "d6", "d4", "d3", "d1"],
    };

    /// <summary>
    /// Per query: nDCG@10, Recall@100, MRR@10, MAP@100.
    /// q1: relevant d10 (grade 1) at rank 6, d1 (2) at 7, d12 (1) at 11, d99 never; 4 relevant.
    ///     DCG@10 = 1/log2(7) + 2/log2(8); ideal gains 2,1,1,1: 2/log2(2) + 1/log2(3) + 1/log2(4) + 1/log2(5).
    ///     Recall = 3/4. MRR@10 = 1/6. AP = (1/6 + 2/7 + 3/11) / 4.
    /// q2: relevant d2 (1) at rank 1, d4 (2) at 5, d3 (2) at 6; 3 relevant (d1 graded 0, d5 −1).
    ///     DCG@10 = 1 + 2/log2(6) + 2/log2(7); ideal 2,2,1: 2 + 2/log2(3) + 1/log2(4). Recall 1, MRR 1,
    ///     AP = (1/1 + 2/5 + 3/6) / 3.
    /// q3: d9 at rank 12: nDCG@10 = 0, Recall@100 = 1, MRR@10 = 0 (uncut recip_rank would be 1/12), AP = (1/12) / 1.
    /// q4: no relevant document: all 0, but it is evaluated and counts in the mean (trec_eval, pytrec_eval).
    /// </summary>
    private static readonly Dictionary<string, double[]> ExpectedPerQuery = new()
    {
        ["q1"] = [(1 / Math.Log2(7) + 2 / Math.Log2(8)) / (2 + 1 / Math.Log2(3) + 1 / Math.Log2(4) + 1 / Math.Log2(5)), 3 / 4.0, 1 / 6.0, (1 / 6.0 + 2 / 7.0 + 3 / 11.0) / 4],
        ["q2"] = [(1 + 2 / Math.Log2(6) + 2 / Math.Log2(7)) / (2 + 2 / Math.Log2(3) + 1 / Math.Log2(4)), 1, 1, (1 + 2 / 5.0 + 3 / 6.0) / 3],
        ["q3"] = [0, 1, 0, 1 / 12.0],
        ["q4"] = [0, 0, 0, 0],
    };

    private static BeirDataset Dataset()
    {
        var folder = BeirDatasetTests.Write(
            corpus: DocumentVectors.Keys.Select((id, i) => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = id, ["title"] = i % 3 == 0 ? "" : $"Title {id}", ["text"] = $"text of {id}" })),
            queries: QueryVectors.Keys.Select(id => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = id, ["text"] = $"query {id}" })),
            qrels: QrelsLines);
        return BeirDataset.Load(folder, "test");
    }

    /// <summary>Embeds with the table above, searches the corpus in chunks of 5 and returns the run by query id.</summary>
    private static Dictionary<string, IReadOnlyList<ScoredDoc>> Search(BeirDataset data)
    {
        using var queries = tensor(data.Queries.SelectMany(q => QueryVectors[q.Id]).ToArray(), [data.Queries.Count, 4]);
        using var corpus = tensor(data.Corpus.SelectMany(d => DocumentVectors[d.Id]).ToArray(), [data.Corpus.Count, 4]);
        var chunks = Enumerable.Range(0, 3).Select(i => corpus.narrow(0, 5 * i, Math.Min(5, data.Corpus.Count - 5 * i))).ToList();
        var results = ExactSearch.Search(queries, data.Corpus.Select(d => d.Id).ToList(), chunks, topK: 100);
        chunks.ForEach(c => c.Dispose());
        return data.Queries.Select((q, i) => (q.Id, results[i])).ToDictionary(p => p.Id, p => p.Item2);
    }

    [Fact]
    public void Rankings_and_all_four_measures_match_the_hand_computation()
    {
        var data = Dataset();
        Assert.Equal(["q1", "q2", "q3", "q4"], data.Queries.Select(q => q.Id));
        Assert.Equal("Title d2. text of d2", data.Corpus[1].Text);
        Assert.Equal("text of d1", data.Corpus[0].Text);
        var run = Search(data);
        foreach (var (query, ranking) in ExpectedRankings) Assert.Equal(ranking, run[query].Select(d => d.DocId));
        Assert.Equal([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0, -0.5, -0.5, -1], run["q1"].Select(d => d.Score));

        var report = RetrievalMetrics.Evaluate(data.Qrels, run);
        Assert.Equal(["ndcg_at_10", "recall_at_100", "mrr_at_10", "map_at_100"], RetrievalMetrics.Reported.Select(m => m.Name));
        Assert.Equal(["q1", "q2", "q3", "q4"], report.QueryIds);
        foreach (var (query, expected) in ExpectedPerQuery)
        {
            for (int m = 0; m < 4; m++)
                Assert.Equal(expected[m], report.PerQuery[query][RetrievalMetrics.Reported[m].Name], 12);
        }
        // means over the 4 evaluated queries; trec_eval prints 0.2370, 0.6875, 0.2917 (with -M 10), 0.2245
        Assert.Equal((ExpectedPerQuery["q1"][0] + ExpectedPerQuery["q2"][0]) / 4, report.Mean["ndcg_at_10"], 12);
        Assert.Equal((0.75 + 1 + 1 + 0) / 4, report.Mean["recall_at_100"], 12);
        Assert.Equal((1 / 6.0 + 1) / 4, report.Mean["mrr_at_10"], 12);
        Assert.Equal((ExpectedPerQuery["q1"][3] + ExpectedPerQuery["q2"][3] + 1 / 12.0) / 4, report.Mean["map_at_100"], 12);
        Assert.Equal([0.2370, 0.6875, 0.2917, 0.2245], RetrievalMetrics.Reported.Select(m => Math.Round(report.Mean[m.Name], 4)));
    }

    [Fact]
    public void Run_file_results_json_and_table_hold_the_same_numbers()
    {
        var data = Dataset();
        var run = Search(data);
        var report = RetrievalMetrics.Evaluate(data.Qrels, run);
        var folder = TestPaths.TempDir("hand-eval");

        var runPath = Path.Combine(folder, "test.run");
        TrecRunFile.Write(runPath, data.Queries.Select(q => q.Id).ToList(), data.Queries.Select(q => run[q.Id]).ToList(), "hand");
        var lines = File.ReadAllLines(runPath);
        Assert.Equal(4 * 12, lines.Length);
        Assert.Equal(["q1 Q0 d7 1 1 hand", "q1 Q0 d5 2 0.5 hand", "q1 Q0 d4 3 0.5 hand", "q1 Q0 d2 4 0.5 hand", "q1 Q0 d11 5 0.5 hand"], lines[..5]);
        Assert.Equal("q1 Q0 d6 12 -1 hand", lines[11]);
        Assert.Equal("q2 Q0 d2 1 1 hand", lines[12]);
        // read back as trec_eval reads it (the rank column ignored), the run gives the same measures
        var reread = RetrievalMetrics.Evaluate(data.Qrels, TrecRunFile.Read(runPath));
        Assert.Equal(report.Mean, reread.Mean);
        Assert.Empty(Directory.GetFiles(folder, ".*"));

        var jsonPath = Path.Combine(folder, "results.json");
        EvaluationResults.WriteJson(jsonPath, [("test", report)]);
        using (var json = JsonDocument.Parse(File.ReadAllText(jsonPath)))
        {
            var test = json.RootElement.GetProperty("splits").GetProperty("test");
            Assert.Equal(4, test.GetProperty("queries").GetInt32());
            foreach (var metric in RetrievalMetrics.Reported)
            {
                Assert.Equal(report.Mean[metric.Name], test.GetProperty("metrics").GetProperty(metric.Name).GetDouble());
                foreach (var query in report.QueryIds)
                    Assert.Equal(report.PerQuery[query][metric.Name], test.GetProperty("per_query").GetProperty(query).GetProperty(metric.Name).GetDouble());
            }
            Assert.Equal(["q1", "q2", "q3", "q4"], test.GetProperty("per_query").EnumerateObject().Select(p => p.Name));
        }

        Assert.Equal(
            "split  queries  nDCG@10  Recall@100  MRR@10  MAP@100\n" +
            "test         4   0.2370      0.6875  0.2917   0.2245\n",
            EvaluationResults.FormatTable([("test", report)]));
    }

    [Fact]
    public void Queries_missing_from_the_run_are_left_out_or_score_zero_with_complete()
    {
        var data = Dataset();
        var run = Search(data);
        run.Remove("q2");
        run["unjudged"] = [new ScoredDoc("d1", 1)];
        var report = RetrievalMetrics.Evaluate(data.Qrels, run);
        Assert.Equal(["q1", "q3", "q4"], report.QueryIds);
        Assert.Equal((0.75 + 1 + 0) / 3, report.Mean["recall_at_100"], 12);
        var complete = RetrievalMetrics.Evaluate(data.Qrels, run, complete: true);
        Assert.Equal(["q1", "q2", "q3", "q4"], complete.QueryIds);
        Assert.All(complete.PerQuery["q2"].Values, v => Assert.Equal(0, v));
        Assert.Equal((0.75 + 0 + 1 + 0) / 4, complete.Mean["recall_at_100"], 12);
    }
}
