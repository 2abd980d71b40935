using System.Text;
using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// Reads the JSON object a model answered with. Strict JSON first; then leniently, in order: the body of a Markdown
/// code fence, the first balanced <c>{…}</c> (braces inside strings ignored), commas before a closing bracket
/// removed, raw control characters inside strings escaped. The text is only ever parsed as JSON, never evaluated.
/// </summary>
public static class LenientJson
{
    /// <summary>The object, or null when none can be read (a truncated answer, prose, an array).</summary>
    public static JsonElement? ParseObject(string text)
    {
        if (TryParse(text.Trim(), out var strict) && strict.ValueKind == JsonValueKind.Object) return strict;
        var candidate = Fenced(text) ?? text;
        var braces = FirstBalanced(candidate, '{', '}') ?? (candidate == text ? null : FirstBalanced(text, '{', '}'));
        if (braces is null) return null;
        if (TryParse(Repair(braces), out var lenient) && lenient.ValueKind == JsonValueKind.Object) return lenient;
        return null;
    }

    /// <summary>Strict parse of <paramref name="text"/>; false when it is not one JSON value.</summary>
    public static bool TryParse(string text, out JsonElement value)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            value = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            value = default;
            return false;
        }
    }

    /// <summary>The body of the first <c>```</c> fence (a language tag after the opening fence is skipped); null when there is none.</summary>
    public static string? Fenced(string text)
    {
        int open = text.IndexOf("```", StringComparison.Ordinal);
        if (open < 0) return null;
        int bodyStart = text.IndexOf('\n', open);
        if (bodyStart < 0) return null;
        int close = text.IndexOf("```", bodyStart, StringComparison.Ordinal);
        return close < 0 ? text[(bodyStart + 1)..] : text[(bodyStart + 1)..close];
    }

    /// <summary>The first span from <paramref name="open"/> to its matching <paramref name="close"/>, skipping JSON strings; null if it never closes.</summary>
    public static string? FirstBalanced(string text, char open, char close)
    {
        int start = text.IndexOf(open);
        if (start < 0) return null;
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            }
            else if (c == '"') inString = true;
            else if (c == open) depth++;
            else if (c == close && --depth == 0) return text[start..(i + 1)];
        }
        return null;
    }

    /// <summary>Removes commas that only whitespace separates from a closing bracket, and escapes control characters inside strings.</summary>
    public static string Repair(string json)
    {
        var result = new StringBuilder(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                if (c == '\\' && i + 1 < json.Length)
                {
                    result.Append(c).Append(json[++i]);
                    continue;
                }
                if (c == '"') inString = false;
                if (c < 0x20) result.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\u{(int)c:x4}" });
                else result.Append(c);
                continue;
            }
            if (c == '"') inString = true;
            if (c == ',')
            {
                int next = i + 1;
                while (next < json.Length && char.IsWhiteSpace(json[next])) next++;
                if (next < json.Length && json[next] is '}' or ']') continue;
            }
            result.Append(c);
        }
        return result.ToString();
    }
}
