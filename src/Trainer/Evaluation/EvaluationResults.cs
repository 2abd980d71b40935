using System.Globalization;
using System.Text;
using System.Text.Json;
using Trainer.Checkpointing;

namespace Trainer.Evaluation;

/// <summary>
/// The outputs of an evaluation: <c>results.json</c> and the table printed for people. Both list the splits in the
/// given order and the measures of <see cref="RetrievalMetrics.Reported"/>.
/// </summary>
public static class EvaluationResults
{
    /// <summary>
    /// <c>{"splits": {SPLIT: {"queries": N, "metrics": {NAME: mean, …}, "per_query": {QUERY_ID: {NAME: value, …}, …}}}}</c>,
    /// values at full double precision.
    /// </summary>
    public static void WriteJson(string path, IReadOnlyList<(string Split, RetrievalReport Report)> splits)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("splits");
            foreach (var (split, report) in splits)
            {
                json.WriteStartObject(split);
                json.WriteNumber("queries", report.QueryIds.Count);
                WriteMetrics(json, "metrics", report.Mean);
                json.WriteStartObject("per_query");
                foreach (var queryId in report.QueryIds) WriteMetrics(json, queryId, report.PerQuery[queryId]);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        OutputTarget.Write(path, "--output", buffer.ToArray());
    }

    /// <summary>One row per split: its name, its number of queries, and each measure's mean to 4 decimals.</summary>
    public static string FormatTable(IReadOnlyList<(string Split, RetrievalReport Report)> splits)
    {
        var header = new List<string> { "split", "queries" };
        header.AddRange(RetrievalMetrics.Reported.Select(m => m.Label));
        var rows = splits.Select(s => new List<string> { s.Split, s.Report.QueryIds.Count.ToString(CultureInfo.InvariantCulture) }
            .Concat(RetrievalMetrics.Reported.Select(m => s.Report.Mean[m.Name].ToString("F4", CultureInfo.InvariantCulture))).ToList()).ToList();
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Prepend(h.Length).Max()).ToList();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            // the split name is left-aligned, numbers right-aligned
            text.AppendJoin("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).Append('\n');
        }
        return text.ToString();
    }

    private static void WriteMetrics(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, double> values)
    {
        json.WriteStartObject(name);
        foreach (var metric in RetrievalMetrics.Reported) json.WriteNumber(metric.Name, values[metric.Name]);
        json.WriteEndObject();
    }
}
