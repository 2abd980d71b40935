using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Trainer.Synthesis;

/// <summary>
/// Reads the task list a brainstorm answered with, trying in order: a JSON array of strings (also inside a code
/// fence or after prose, trailing commas tolerated), a Python list of single- or double-quoted strings (read by a
/// small literal reader, never evaluated), lines that are each one quoted string, then bullet or numbered lines.
/// Blank and exactly repeated tasks are dropped, the first occurrence kept.
/// </summary>
public static partial class TaskListParser
{
    public static IReadOnlyList<string> Parse(string answer)
    {
        var tasks = JsonArray(answer) ?? PythonList(answer) ?? QuotedLines(answer) ?? BulletLines(answer);
        return tasks.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    }

    private static List<string>? JsonArray(string answer)
    {
        foreach (var text in new[] { answer.Trim(), LenientJson.Fenced(answer) ?? "", LenientJson.FirstBalanced(answer, '[', ']') ?? "" })
        {
            if (text.Length == 0) continue;
            if (!LenientJson.TryParse(text, out var value) && !LenientJson.TryParse(LenientJson.Repair(text), out value)) continue;
            if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().FirstOrDefault(p => p.Value.ValueKind == JsonValueKind.Array) is { Value.ValueKind: JsonValueKind.Array } property)
                value = property.Value; // {"tasks": [...]}, as JSON modes make models answer
            if (value.ValueKind != JsonValueKind.Array) continue;
            var strings = value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList();
            if (strings.Count > 0) return strings;
        }
        return null;
    }

    /// <summary>Reads <c>['a', "b", 'it\'s']</c>: string literals separated by commas, in brackets; anything else fails the whole list.</summary>
    public static List<string>? PythonList(string answer)
    {
        int i = answer.IndexOf('[');
        if (i < 0) return null;
        var items = new List<string>();
        i++;
        while (true)
        {
            SkipSpace(answer, ref i);
            if (i >= answer.Length) return null;
            if (answer[i] == ']') return items.Count > 0 ? items : null;
            if (answer[i] is not ('\'' or '"')) return null;
            var item = PythonString(answer, ref i);
            if (item is null) return null;
            items.Add(item);
            SkipSpace(answer, ref i);
            if (i < answer.Length && answer[i] == ',') i++;
            else if (i >= answer.Length || answer[i] != ']') return null;
        }
    }

    private static string? PythonString(string text, ref int i)
    {
        char quote = text[i++];
        var value = new StringBuilder();
        while (i < text.Length)
        {
            char c = text[i++];
            if (c == quote) return value.ToString();
            if (c == '\n') return null;
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }
            if (i >= text.Length) return null;
            char e = text[i++];
            switch (e)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'u' when i + 4 <= text.Length && int.TryParse(text.AsSpan(i, 4), System.Globalization.NumberStyles.HexNumber, null, out int code):
                    value.Append((char)code);
                    i += 4;
                    break;
                default: value.Append(e is '\\' or '\'' or '"' ? e.ToString() : $"\\{e}"); break;
            }
        }
        return null;
    }

    private static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
    }

    private static List<string>? QuotedLines(string answer)
    {
        var lines = answer.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var quoted = lines.Select(l => QuotedLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value.Replace("\\\"", "\"")).ToList();
        return quoted.Count >= 2 || (quoted.Count == 1 && lines.Length == 1) ? quoted : null;
    }

    private static List<string> BulletLines(string answer) =>
        answer.Split('\n').Select(l => BulletLine().Match(l)).Where(m => m.Success)
            .Select(m => m.Groups[1].Value.Trim().Trim('*').Trim().Trim('"', '\'').Trim()).ToList();

    [GeneratedRegex("""^"((?:[^"\\]|\\.)*)"\s*,?$""")]
    private static partial Regex QuotedLine();

    [GeneratedRegex(@"^\s*(?:[-*•+]|\d+[.):]|\(\d+\))\s+(.+?)\s*$")]
    private static partial Regex BulletLine();
}
