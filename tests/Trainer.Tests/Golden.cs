using System.Text.Json;

namespace Trainer.Tests;

/// <summary>Golden values computed by independent reference implementations (see models/README.md).</summary>
public static class Golden
{
    public sealed record Case(string Text, string? Instruction, int[] InputIds, float[] Embedding);

    public sealed record BatchHidden(int[][] InputIds, int[][] AttentionMask, float[][][] LastHiddenState);

    private static readonly Lazy<JsonDocument> TinyDoc = new(() => JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tiny-mistral.golden.json"))));

    public static JsonElement Tiny => TinyDoc.Value.RootElement;

    public static IReadOnlyList<Case> TinyCases() => Tiny.GetProperty("cases").EnumerateArray().Select(c => new Case(
        c.GetProperty("text").GetString()!,
        c.TryGetProperty("instruction", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null,
        Ints(c.GetProperty("input_ids")),
        Floats(c.GetProperty("embedding")))).ToList();

    public static BatchHidden TinyBatchHidden()
    {
        var b = Tiny.GetProperty("batch_hidden");
        return new BatchHidden(
            b.GetProperty("input_ids").EnumerateArray().Select(Ints).ToArray(),
            b.GetProperty("attention_mask").EnumerateArray().Select(Ints).ToArray(),
            b.GetProperty("last_hidden_state").EnumerateArray().Select(r => r.EnumerateArray().Select(Floats).ToArray()).ToArray());
    }

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
