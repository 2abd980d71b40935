using System.Globalization;
using System.Text;
using Trainer.Checkpointing;

namespace Trainer.Evaluation;

/// <summary>
/// Writes a TREC run file, the input trec_eval reads: one line per retrieved document,
/// <c>query_id Q0 doc_id rank score run_name</c>, single spaces, queries in the given order and each query's documents
/// in <see cref="TrecOrder"/> with rank 1, 2, …. Scores are written in the shortest form that reads back as the same
/// double, so trec_eval orders and breaks ties exactly as <see cref="RetrievalMetrics"/> did. The file is written
/// beside the target and renamed over it, so a failed write leaves no partial run.
/// </summary>
public static class TrecRunFile
{
    public static void Write(string path, IReadOnlyList<string> queryIds, IReadOnlyList<IReadOnlyList<ScoredDoc>> results, string runName)
    {
        if (queryIds.Count != results.Count) throw new ArgumentException($"{queryIds.Count} query ids but {results.Count} result lists.");
        CheckField(runName, "run name");
        var text = new StringBuilder();
        for (int q = 0; q < queryIds.Count; q++)
        {
            CheckField(queryIds[q], "query id");
            var ranked = results[q].ToArray();
            Array.Sort(ranked, TrecOrder.Instance);
            for (int i = 0; i < ranked.Length; i++)
            {
                CheckField(ranked[i].DocId, "document id");
                if (!double.IsFinite(ranked[i].Score)) throw new ArgumentException($"query \"{queryIds[q]}\", document \"{ranked[i].DocId}\": score {ranked[i].Score} is not finite.");
                text.Append(queryIds[q]).Append(" Q0 ").Append(ranked[i].DocId).Append(' ').Append(i + 1).Append(' ')
                    .Append(ranked[i].Score.ToString("R", CultureInfo.InvariantCulture)).Append(' ').Append(runName).Append('\n');
            }
        }
        OutputTarget.Write(path, "--run", Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>
    /// Reads a TREC run (<c>query Q0 doc rank score run</c>, white-space separated) as query id → scored documents.
    /// The rank column is ignored, as trec_eval ignores it: documents are ranked by score, ties by <see cref="TrecOrder"/>.
    /// A malformed line stops with <c>file:line</c> and the reason.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<ScoredDoc>> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Run file not found: {path}", path);
        var run = new Dictionary<string, List<ScoredDoc>>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            if (fields.Length != 6) throw new InvalidDataException($"{path}:{lineNumber}: expected 6 fields (query Q0 doc rank score run), found {fields.Length}.");
            if (!double.TryParse(fields[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || !double.IsFinite(score))
                throw new InvalidDataException($"{path}:{lineNumber}: score \"{fields[4]}\" is not a finite number.");
            if (!run.TryGetValue(fields[0], out var docs)) run[fields[0]] = docs = [];
            docs.Add(new ScoredDoc(fields[2], score));
        }
        return run.ToDictionary(q => q.Key, q => (IReadOnlyList<ScoredDoc>)q.Value, StringComparer.Ordinal);
    }

    private static void CheckField(string value, string what)
    {
        if (value.Length == 0 || value.Any(char.IsWhiteSpace))
            throw new ArgumentException($"{what} \"{value}\" is empty or holds white space, which a TREC run file cannot hold.");
    }
}
