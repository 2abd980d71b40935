using System.Text.Json;

namespace Trainer.Text;

/// <summary>
/// The query prompt of a base folder that is itself a sentence-transformers model (<c>config_sentence_transformers.json</c>
/// with <c>prompts.query</c>, as Qwen3-Embedding ships <c>"Instruct: Given a web search query, …\nQuery:"</c>), read as
/// a <see cref="QueryTemplate"/> and the instruction it holds, so that fine-tuning such a model keeps its own query
/// format. The prompt must have e5's shape, <c>Instruct: </c> then the instruction up to the end of its line, then the
/// rest (<c>\nQuery:</c>); a prompt without an instruction (<c>"query: "</c>) cannot be a template that puts an
/// instruction in, and is not used.
/// </summary>
public static class SentenceTransformersPrompt
{
    public const string ConfigFile = "config_sentence_transformers.json";

    private const string Marker = "Instruct:";

    /// <summary>The template and instruction of <paramref name="modelDir"/>'s query prompt, or null when it has none of e5's shape.</summary>
    public static (QueryTemplate Template, string Instruction)? Read(string modelDir)
    {
        var path = Path.Combine(modelDir, ConfigFile);
        if (!File.Exists(path)) return null;
        string? prompt;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            prompt = json.RootElement.ValueKind == JsonValueKind.Object
                     && json.RootElement.TryGetProperty("prompts", out var prompts) && prompts.ValueKind == JsonValueKind.Object
                     && prompts.TryGetProperty("query", out var query) && query.ValueKind == JsonValueKind.String
                ? query.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message})");
        }
        return prompt is null ? null : Parse(prompt);
    }

    /// <summary><c>Instruct: X\nQuery:</c> → (<c>Instruct: {instruction}\nQuery:{query}</c>, X); null for any other shape.</summary>
    public static (QueryTemplate Template, string Instruction)? Parse(string prompt)
    {
        int marker = prompt.IndexOf(Marker, StringComparison.Ordinal);
        if (marker < 0 || prompt.Contains(QueryTemplate.InstructionSlot, StringComparison.Ordinal) || prompt.Contains(QueryTemplate.QuerySlot, StringComparison.Ordinal)) return null;
        int start = marker + Marker.Length;
        if (start < prompt.Length && prompt[start] == ' ') start++;
        int end = prompt.IndexOf('\n', start);
        if (end < 0 || end == start) return null;
        var template = prompt[..start] + QueryTemplate.InstructionSlot + prompt[end..] + QueryTemplate.QuerySlot;
        return (new QueryTemplate(template), prompt[start..end]);
    }
}
