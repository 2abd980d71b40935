using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// Turns a generation's answer into the group's texts (query, positive, and negative for three-key groups), or names
/// why it is dropped: <c>length</c> (finish_reason length: cut off), <c>unparsable</c> (no JSON object found, see
/// <see cref="LenientJson"/>), <c>missing_key</c> (a key absent, not a string, or blank), <c>query_equals_positive</c>,
/// <c>positive_equals_negative</c>.
/// </summary>
public static class AnswerReader
{
    public static (IReadOnlyList<string>? Texts, string? Cause) Read(SynthGroup group, string? finishReason, string content)
    {
        if (finishReason == "length") return (null, "length");
        if (LenientJson.ParseObject(content) is not { } json) return (null, "unparsable");
        var texts = new List<string>();
        foreach (var key in group.Keys)
        {
            if (!json.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                return (null, "missing_key");
            texts.Add(value.GetString()!.Trim());
        }
        if (texts[0] == texts[1]) return (null, "query_equals_positive");
        if (texts.Count > 2 && texts[1] == texts[2]) return (null, "positive_equals_negative");
        return (texts, null);
    }
}
