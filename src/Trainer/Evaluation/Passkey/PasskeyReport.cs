using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Trainer.Checkpointing;

namespace Trainer.Evaluation.Passkey;

/// <summary>
/// The result of <c>trainer eval --passkey</c>: top-1 accuracy per length for each RoPE base, printed as a table (one
/// row per length, one column per base) and written as JSON.
/// </summary>
/// <param name="Instruction">The queries' instruction; null: none.</param>
public sealed record PasskeyReport(string Model, string? Adapter, int Seed, int Candidates, string? Instruction, int MaxPositionEmbeddings, IReadOnlyList<PasskeyRun> Runs)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary><c>length  key_at  top1@θ=10000  [top1@θ=100000]</c>, accuracies to 4 decimals.</summary>
    public string FormatTable()
    {
        var header = new List<string> { "length", "key_at" };
        header.AddRange(Runs.Select(r => $"top1@θ={r.RopeTheta.ToString("R", Invariant)}"));
        var rows = Runs[0].Lengths.Select((l, i) => new List<string> { l.Length.ToString(Invariant), l.KeyStart.ToString(Invariant) }
            .Concat(Runs.Select(r => r.Lengths[i].Accuracy.ToString("F4", Invariant))).ToList()).ToList();
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Prepend(h.Length).Max()).ToList();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header)) text.AppendJoin("  ", row.Select((cell, c) => cell.PadLeft(widths[c]))).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// <c>{"task": "passkey", "model", "adapter", "seed", "candidates", "instruction", "max_position_embeddings",
    /// "runs": [{"rope_theta", "rope_theta_given", "lengths": [{"length", "key_position", "depth", "top1", "hits",
    /// "distinct_winners", "seconds"}, …]}, …]}</c>, written through <see cref="OutputTarget"/> (a temporary file renamed over the target, or
    /// standard output for <c>-</c>).
    /// </summary>
    public void WriteJson(string path)
    {
        using var buffer = new MemoryStream();
        // the instruction as written (' rather than \u0027)
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("task", "passkey");
            json.WriteString("model", Model);
            json.WriteString("adapter", Adapter);
            json.WriteNumber("seed", Seed);
            json.WriteNumber("candidates", Candidates);
            json.WriteString("instruction", Instruction);
            json.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            json.WriteStartArray("runs");
            foreach (var run in Runs)
            {
                json.WriteStartObject();
                json.WriteNumber("rope_theta", run.RopeTheta);
                json.WriteBoolean("rope_theta_given", run.Given);
                json.WriteStartArray("lengths");
                foreach (var l in run.Lengths)
                {
                    json.WriteStartObject();
                    json.WriteNumber("length", l.Length);
                    json.WriteNumber("key_position", l.KeyStart);
                    json.WriteNumber("depth", (double)l.KeyStart / l.Length);
                    json.WriteNumber("top1", l.Accuracy);
                    json.WriteNumber("hits", l.Hits);
                    json.WriteNumber("distinct_winners", l.DistinctWinners);
                    json.WriteNumber("seconds", Math.Round(l.Seconds, 3));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        OutputTarget.Write(path, "--output", buffer.ToArray());
    }
}
