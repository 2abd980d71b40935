using System.Text.Json;

namespace Trainer.Serving;

/// <summary>
/// Reads the two request shapes into an <see cref="EmbeddingRequest"/>, refusing anything malformed with a 400
/// <see cref="ApiError"/> that names the field and what is allowed. Unknown fields are ignored (clients add their own).
/// <list type="bullet">
/// <item>OpenAI <c>POST /v1/embeddings</c>: <c>input</c> (a string or an array of strings), <c>model</c>,
/// <c>encoding_format</c> (float or base64), <c>dimensions</c>, <c>user</c>; and ours: <c>input_type</c> ("query" or
/// "document", the default), <c>instruction</c> (makes the inputs queries with that instruction) and <c>truncate</c>.</item>
/// <item>text-embeddings-inference <c>POST /embed</c>: <c>inputs</c>, <c>normalize</c> (true only), <c>truncate</c>,
/// <c>truncation_direction</c> (right only), <c>prompt_name</c> ("query" or "document"), <c>dimensions</c>; and ours:
/// <c>instruction</c>.</item>
/// </list>
/// </summary>
public static class RequestParser
{
    public static EmbeddingRequest ParseOpenAi(JsonElement root)
    {
        RequireObject(root);
        String(root, "model");
        String(root, "user");
        bool base64 = Choice(root, "encoding_format", ["float", "base64"]) == "base64";
        var kind = Choice(root, "input_type", ["query", "document"]);
        return Build(root, "input", kind, "input_type", base64);
    }

    public static EmbeddingRequest ParseTei(JsonElement root)
    {
        RequireObject(root);
        if (Bool(root, "normalize") == false)
            throw ApiError.BadRequest("unsupported_value", "normalize: false is not supported: the model's pooling L2-normalises every embedding " +
                                                           "(it was trained on cosine similarity). Leave normalize out or send true.", "normalize");
        var direction = Choice(root, "truncation_direction", ["right", "Right", "left", "Left"]);
        if (direction is "left" or "Left")
            throw ApiError.BadRequest("unsupported_value", "truncation_direction: left is not supported; inputs are cut at the end (right), " +
                                                           "keeping BOS and EOS, as in training.", "truncation_direction");
        var kind = Choice(root, "prompt_name", ["query", "document"]);
        return Build(root, "inputs", kind, "prompt_name", base64: false);
    }

    private static EmbeddingRequest Build(JsonElement root, string field, string? kind, string kindField, bool base64)
    {
        var texts = Texts(root, field);
        var instruction = String(root, "instruction");
        if (instruction is { Length: > 0 } && string.IsNullOrWhiteSpace(instruction))
            throw ApiError.BadRequest("invalid_value", "instruction is whitespace only; leave it out for the server's default, or send \"\" for none.", "instruction");
        if (instruction is not null && kind == "document")
            throw ApiError.BadRequest("invalid_value", $"instruction applies to queries, but {kindField} is \"document\"; drop one of them.", "instruction");
        int? dimensions = null;
        if (Field(root, "dimensions") is { } d)
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n))
                throw ApiError.BadRequest("invalid_type", $"dimensions must be an integer, got {Describe(d)}.", "dimensions");
            dimensions = n;
        }
        return new EmbeddingRequest(field, texts, kind == "query" || instruction is not null, instruction, Bool(root, "truncate"), base64, dimensions);
    }

    private static void RequireObject(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw ApiError.BadRequest("invalid_json", $"The request body must be a JSON object, got {Describe(root)}.");
    }

    /// <summary>A string or an array of strings, none of them empty or whitespace only.</summary>
    private static List<string> Texts(JsonElement root, string field)
    {
        var value = Field(root, field) ?? throw ApiError.BadRequest("missing_field", $"{field} is required: a string or an array of strings.", field);
        if (value.ValueKind == JsonValueKind.String) return [Text(value, field)];
        if (value.ValueKind != JsonValueKind.Array)
            throw ApiError.BadRequest("invalid_type", $"{field} must be a string or an array of strings, got {Describe(value)}.", field);
        if (value.GetArrayLength() == 0) throw ApiError.BadRequest("empty_input", $"{field} is an empty array; send at least one string.", field);
        var texts = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            var param = $"{field}[{texts.Count}]";
            if (item.ValueKind == JsonValueKind.Number || item.ValueKind == JsonValueKind.Array)
                throw ApiError.BadRequest("invalid_type", $"{param} is {Describe(item)}: token ids are not accepted (they would be another tokenizer's); send text.", param);
            if (item.ValueKind != JsonValueKind.String) throw ApiError.BadRequest("invalid_type", $"{param} must be a string, got {Describe(item)}.", param);
            texts.Add(Text(item, param));
        }
        return texts;
    }

    private static string Text(JsonElement value, string param)
    {
        var text = StringOf(value, param);
        if (text.Length == 0) throw ApiError.BadRequest("empty_string", $"{param} is an empty string; every input needs some text.", param);
        if (string.IsNullOrWhiteSpace(text)) throw ApiError.BadRequest("empty_string", $"{param} is whitespace only; every input needs some text.", param);
        return text;
    }

    private static string? String(JsonElement root, string name) => Field(root, name) is { } value
        ? value.ValueKind == JsonValueKind.String ? StringOf(value, name) : throw ApiError.BadRequest("invalid_type", $"{name} must be a string, got {Describe(value)}.", name)
        : null;

    private static string StringOf(JsonElement value, string param)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw ApiError.BadRequest("invalid_string", $"{param} is not valid text ({e.Message}).", param);
        }
    }

    private static bool? Bool(JsonElement root, string name) => Field(root, name) is { } value
        ? value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiError.BadRequest("invalid_type", $"{name} must be true or false, got {Describe(value)}.", name),
        }
        : null;

    private static string? Choice(JsonElement root, string name, string[] allowed)
    {
        var value = String(root, name);
        if (value is not null && !allowed.Contains(value))
            throw ApiError.BadRequest("unsupported_value", $"{name} = {JsonSerializer.Serialize(value)} is not supported; allowed: {string.Join(", ", allowed.Select(a => JsonSerializer.Serialize(a)))}.", name);
        return value;
    }

    /// <summary>The value of a field that is present and not JSON null.</summary>
    private static JsonElement? Field(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"a number ({value.GetRawText()})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({value.GetRawText()})",
        _ => "null",
    };
}
