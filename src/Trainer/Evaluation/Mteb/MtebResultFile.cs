using System.Globalization;
using System.Text;
using System.Text.Json;
using Trainer.Checkpointing;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// MTEB's result file, one JSON object per task, keys sorted as MTEB writes them:
/// <c>{"dataset_revision", "evaluation_time", "kg_co2_emissions", "mteb_version", "scores": {SPLIT: [{…measures,
/// "hf_subset", "languages", "main_score"}]}, "task_name"}</c>. <c>mteb_version</c> names the release whose format this
/// follows (1.12.75, e5-mistral's published results' version), <c>kg_co2_emissions</c> is null (not measured), and
/// <c>dataset_revision</c> is a digest of the local files (<see cref="MtebEvaluator.Revision"/>), not a hub commit.
/// And the summary table of several results averaged by task type, as the paper's Table 1 reports them.
/// </summary>
public static class MtebResultFile
{
    public const string FormatVersion = "1.12.75";

    public static byte[] Serialize(MtebResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("dataset_revision", result.DatasetRevision);
            json.WriteNumber("evaluation_time", result.EvaluationSeconds);
            json.WriteNull("kg_co2_emissions");
            json.WriteString("mteb_version", FormatVersion);
            json.WriteStartObject("scores");
            foreach (var (split, subsets) in result.Scores)
            {
                json.WriteStartArray(split);
                foreach (var subset in subsets) WriteObject(json, subset);
                json.WriteEndArray();
            }
            json.WriteEndObject();
            json.WriteString("task_name", result.TaskName);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    public static void Write(string path, MtebResult result) => OutputTarget.Write(path, "--output", Serialize(result));

    private static void WriteObject(Utf8JsonWriter json, IEnumerable<KeyValuePair<string, object>> values)
    {
        json.WriteStartObject();
        foreach (var (key, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(key);
            WriteValue(json, value);
        }
        json.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter json, object value)
    {
        switch (value)
        {
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case double: json.WriteNullValue(); break; // NaN (e.g. a correlation of constant scores): JSON has no NaN
            case string s: json.WriteStringValue(s); break;
            case IEnumerable<string> strings:
                json.WriteStartArray();
                foreach (var s in strings) json.WriteStringValue(s);
                json.WriteEndArray();
                break;
            case IEnumerable<SortedDictionary<string, double>> experiments:
                json.WriteStartArray();
                foreach (var e in experiments) WriteObject(json, e.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value)));
                json.WriteEndArray();
                break;
            default: throw new InvalidOperationException($"cannot write a {value.GetType().Name} into an MTEB result file.");
        }
    }

    /// <summary>
    /// Reads a result file's task name and the main score of <paramref name="split"/> (the mean over its subsets); null
    /// when the file has no such split. Its type comes from the built-in table (<see cref="E5TaskTable"/>), else from the
    /// measures the file holds (<see cref="TypeOfMeasures"/>), else "?".
    /// </summary>
    public static (string Type, string Task, double MainScore)? ReadMain(string path, string split)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("task_name", out var name) || name.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: not an MTEB result file (no \"task_name\" string or \"scores\" object).");
        if (!scores.TryGetProperty(split, out var subsets) || subsets.ValueKind != JsonValueKind.Array || subsets.GetArrayLength() == 0) return null;
        var mains = subsets.EnumerateArray().Select(s => s.TryGetProperty("main_score", out var m) && m.ValueKind == JsonValueKind.Number
            ? m.GetDouble() : throw new InvalidDataException($"{path}: a \"{split}\" score set has no numeric \"main_score\".")).ToList();
        string task = name.GetString()!;
        var measures = subsets[0].EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        string type = E5TaskTable.Find(task) is { } known ? MtebTaskTypes.Name(known.Type) : TypeOfMeasures(measures) is { } t ? MtebTaskTypes.Name(t) : "?";
        return (type, task, mains.Average());
    }

    /// <summary>The task type whose evaluator writes these measures (MTEB's names), or null.</summary>
    public static MtebTaskType? TypeOfMeasures(IReadOnlySet<string> measures) =>
        measures.Contains("ndcg_at_10") ? MtebTaskType.Retrieval
        : measures.Contains("v_measure") ? MtebTaskType.Clustering
        : measures.Contains("max_ap") || measures.Contains("cosine_ap") ? MtebTaskType.PairClassification
        : measures.Contains("scores_per_experiment") ? MtebTaskType.Classification
        : measures.Contains("map") && measures.Contains("mrr") ? MtebTaskType.Reranking
        : measures.Contains("dot_spearman") ? MtebTaskType.Summarization
        : measures.Contains("cosine_spearman") ? MtebTaskType.Sts
        : measures.Contains("f1") && measures.Contains("precision") ? MtebTaskType.BitextMining
        : null;

    /// <summary>
    /// A table: one line per task (type, name, main score ×100), then the mean main score of each type, then the mean
    /// over all tasks and over the types (the paper's Table 1 gives per-type means and the mean over tasks).
    /// </summary>
    public static string SummaryTable(IReadOnlyList<(string Type, string Task, double MainScore)> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"type",-20} {"task",-40} {"main_score",10}");
        foreach (var (type, task, main) in results.OrderBy(r => r.Type, StringComparer.Ordinal).ThenBy(r => r.Task, StringComparer.Ordinal))
            text.AppendLine(CultureInfo.InvariantCulture, $"{type,-20} {task,-40} {main * 100,10:F2}");
        var byType = results.GroupBy(r => r.Type).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Type: g.Key, Count: g.Count(), Mean: g.Average(r => r.MainScore))).ToList();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"type",-20} {"tasks",5} {"mean",10}");
        foreach (var (type, count, mean) in byType) text.AppendLine(CultureInfo.InvariantCulture, $"{type,-20} {count,5} {mean * 100,10:F2}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"all tasks",-20} {results.Count,5} {results.Average(r => r.MainScore) * 100,10:F2}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"mean of types",-20} {byType.Count,5} {byType.Average(t => t.Mean) * 100,10:F2}");
        return text.ToString();
    }
}
