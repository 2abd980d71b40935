using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>
/// The hand-made sets of <c>tests/reference/mteb_reference.py</c> (Fixtures/mteb/handmade.json): per task type, hub rows,
/// a fixed vector for every text, and the scores the reference computed. <see cref="Write"/> puts a set's rows into a
/// folder as <c>test.jsonl</c> (and <c>train.jsonl</c>), so the tests read them through <see cref="MtebData"/>.
/// </summary>
public static class HandMadeSets
{
    private static readonly Lazy<JsonNode> Root = new(() => JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("mteb", "handmade.json")))!);

    public static IReadOnlyDictionary<string, float[]> Vectors { get; } = Root.Value["vectors"]!.AsObject()
        .ToDictionary(kv => kv.Key, kv => kv.Value!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray(), StringComparer.Ordinal);

    public static JsonNode Set(string type) => Root.Value["sets"]![type]!;

    public static IReadOnlyDictionary<string, double> Expected(string type) =>
        Set(type)["expected"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>(), StringComparer.Ordinal);

    /// <summary>The set's rows as <c>test.jsonl</c> (and its train rows as <c>train.jsonl</c>) in a new folder.</summary>
    public static string Write(string type)
    {
        var folder = TestPaths.TempDir("mteb-" + type);
        static string Lines(JsonNode rows) => string.Join("\n", rows.AsArray().Select(r => r!.ToJsonString())) + "\n";
        File.WriteAllText(Path.Combine(folder, "test.jsonl"), Lines(Set(type)["rows"]!));
        if (Set(type)["train"] is { } train) File.WriteAllText(Path.Combine(folder, "train.jsonl"), Lines(train));
        return folder;
    }
}

/// <summary>An encoder that looks each text up in <see cref="HandMadeSets.Vectors"/> and records what it was asked.</summary>
public sealed class VectorEncoder : ITextEncoder
{
    public List<(string Text, string? Instruction, bool Normalize)> Calls { get; } = [];

    public float[][] Encode(IReadOnlyList<string> texts, string? instruction, bool normalize)
    {
        foreach (var text in texts) Calls.Add((text, instruction, normalize));
        return texts.Select(t =>
        {
            var v = HandMadeSets.Vectors[t];
            if (!normalize) return (float[])v.Clone();
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            return v.Select(x => (float)(x / norm)).ToArray();
        }).ToArray();
    }
}
