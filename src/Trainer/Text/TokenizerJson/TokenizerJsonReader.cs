using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// Typed reads of a <c>tokenizer.json</c> or <c>tokenizer_config.json</c> whose errors name the file and the key
/// (e.g. <c>tokenizer.json: model.merges[12] ...</c>), so that a user knows what to fix.
/// </summary>
public sealed class TokenizerJsonReader(string path)
{
    public string Path { get; } = path;

    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    public InvalidDataException Error(string key, string what) => new($"{Path}: {key} {what}");

    public NotSupportedException Unsupported(string key, string what) =>
        new($"{Path}: {key} {what}; this reader handles the byte-level BPE tokenizers of Qwen2/2.5/3 and Llama 3 (see docs/tokenizer.md).");

    public JsonElement Object(JsonElement parent, string name, string key)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Object)
            throw Error(key, "is missing or not an object");
        return value;
    }

    public JsonElement Array(JsonElement parent, string name, string key)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
            throw Error(key, "is missing or not an array");
        return value;
    }

    public string String(JsonElement parent, string name, string key)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
            throw Error(key, "is missing or not a string");
        return value.GetString()!;
    }

    public int Int(JsonElement parent, string name, string key)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result) || result < 0)
            throw Error(key, "is missing or not a non-negative integer");
        return result;
    }

    /// <summary>A boolean that may be absent (then <paramref name="absent"/>); null or another type is an error.</summary>
    public bool Bool(JsonElement parent, string name, string key, bool absent)
    {
        if (!parent.TryGetProperty(name, out var value)) return absent;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, "is not true or false"),
        };
    }

    /// <summary>The member, or null when it is absent or JSON null.</summary>
    public static JsonElement? Optional(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
