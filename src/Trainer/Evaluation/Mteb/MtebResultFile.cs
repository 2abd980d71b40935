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
    /// A table: one line per task (type, name, split, main score), then the mean main score of each type, then the mean
    /// over types (the paper's "Avg" column averages tasks; both are given: over tasks and over types).
    /// </summary>
    public static string SummaryTable(IReadOnlyList<MtebResult> results, string split)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"type",-20} {"task",-40} {"main_score",10}");
        foreach (var r in results.OrderBy(r => r.Type).ThenBy(r => r.TaskName, StringComparer.Ordinal))
            text.AppendLine(CultureInfo.InvariantCulture, $"{MtebTaskTypes.Name(r.Type),-20} {r.TaskName,-40} {r.MainScore(split) * 100,10:F2}");
        var byType = results.GroupBy(r => r.Type).OrderBy(g => g.Key).Select(g => (Type: g.Key, Count: g.Count(), Mean: g.Average(r => r.MainScore(split)))).ToList();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"type",-20} {"tasks",5} {"mean",10}");
        foreach (var (type, count, mean) in byType) text.AppendLine(CultureInfo.InvariantCulture, $"{MtebTaskTypes.Name(type),-20} {count,5} {mean * 100,10:F2}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"all tasks",-20} {results.Count,5} {results.Average(r => r.MainScore(split)) * 100,10:F2}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"mean of types",-20} {byType.Count,5} {byType.Average(t => t.Mean) * 100,10:F2}");
        return text.ToString();
    }
}
