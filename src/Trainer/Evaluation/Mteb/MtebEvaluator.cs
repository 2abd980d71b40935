using System.Diagnostics;
using System.Security.Cryptography;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Evaluates one task by its type's evaluator, subset by subset, into an <see cref="MtebResult"/>. Retrieval is scored
/// by the caller's <paramref name="retrieval"/> (<see cref="RetrievalEvaluator"/> over the model; its measures are named
/// like MTEB's: <c>ndcg_at_10</c>, <c>map_at_100</c>, <c>recall_at_100</c>, <c>mrr_at_10</c>; main score nDCG@10).
/// </summary>
public static class MtebEvaluator
{
    public static MtebResult Evaluate(MtebTaskData data, ITextEncoder encoder, MtebOptions options,
        Func<BeirDataset, IReadOnlyDictionary<string, double>>? retrieval = null)
    {
        var clock = Stopwatch.StartNew();
        var task = data.Task;
        var subsets = new List<SortedDictionary<string, object>>();
        if (task.Type == MtebTaskType.Retrieval)
        {
            if (retrieval is null) throw new InvalidOperationException("retrieval needs a retrieval scorer (the model), not only a text encoder.");
            var scores = new SortedDictionary<string, object>(StringComparer.Ordinal);
            foreach (var (name, value) in retrieval(data.Beir!)) scores[name] = value;
            scores["main_score"] = scores[MtebTaskTypes.MainMetric(MtebTaskType.Retrieval)];
            subsets.Add(Tag(scores, "default"));
        }
        else
        {
            foreach (var (subset, rows) in data.Data!.Subsets)
            {
                var scores = task.Type switch
                {
                    MtebTaskType.Sts => StsEvaluator.Evaluate(rows, encoder, task),
                    MtebTaskType.PairClassification => PairClassificationEvaluator.Evaluate(rows, encoder, task),
                    MtebTaskType.Reranking => RerankingEvaluator.Evaluate(rows, encoder, task),
                    MtebTaskType.Classification => ClassificationEvaluator.Evaluate(TrainRows(data, subset), rows, encoder, task, options),
                    MtebTaskType.Clustering => ClusteringEvaluator.Evaluate(rows, encoder, task, options),
                    MtebTaskType.Summarization => SummarizationEvaluator.Evaluate(rows, encoder, task),
                    MtebTaskType.BitextMining => BitextMiningEvaluator.Evaluate(rows, encoder, task),
                    _ => throw new ArgumentOutOfRangeException(nameof(data), task.Type, null),
                };
                subsets.Add(Tag(scores, subset));
            }
        }
        var all = new Dictionary<string, IReadOnlyList<SortedDictionary<string, object>>> { [data.Split] = subsets };
        return new MtebResult(task.Name, task.Type, Revision(data.Files()), clock.Elapsed.TotalSeconds, all);
    }

    private static IReadOnlyList<MtebRow> TrainRows(MtebTaskData data, string subset) =>
        data.Train!.Subsets.FirstOrDefault(s => s.Subset == subset).Rows
        ?? throw new FileNotFoundException($"--data {data.Folder}: subset \"{subset}\" has split \"{data.Split}\" but no \"{data.Train.Split}\" split to train the classifier on.");

    /// <summary>MTEB's per-subset keys: <c>hf_subset</c> and <c>languages</c> (unknown for local data: empty).</summary>
    private static SortedDictionary<string, object> Tag(SortedDictionary<string, object> scores, string subset)
    {
        scores["hf_subset"] = subset;
        scores["languages"] = Array.Empty<string>();
        return scores;
    }

    /// <summary>The first 40 hex digits of the SHA-256 over the files' names and bytes: a stand-in for the hub's dataset revision.</summary>
    public static string Revision(IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..40];
    }
}
