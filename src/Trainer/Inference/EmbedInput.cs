using System.Text.Json;
using Trainer.Data;

namespace Trainer.Inference;

/// <summary>
/// One line of an embed/tokenize input file: <c>{"text": "...", "instruction": "..."}</c> (instruction optional)
/// or <c>{"input_ids": [...]}</c>, optionally with an <c>"id"</c> of any JSON type that is carried to the output.
/// A text is a document (embedded as it is) unless it is a query: it has its own <c>"instruction"</c>, or
/// <c>"query": true</c>, which gives it the model's default instruction (sentence-transformers' prompt_name "query").
/// </summary>
public sealed record EmbedInput(JsonElement? Id, string? Text, string? Instruction, int[]? InputIds)
{
    /// <summary><c>"query": true</c>: a query without its own instruction gets the default one.</summary>
    public bool Query { get; init; }

    /// <summary>The instruction this text is formatted with: its own, else <paramref name="defaultInstruction"/> for a query; null for a document.</summary>
    public string? InstructionOr(string? defaultInstruction) => Instruction ?? (Query ? defaultInstruction : null);

    /// <summary>
    /// Reads the file one line at a time (blank lines skipped), as strict UTF-8; a bad line throws naming the file
    /// and line number.
    /// </summary>
    public static IEnumerable<EmbedInput> Read(string path, int vocabSize)
    {
        if (path != Utf8Lines.StandardInput && !File.Exists(path)) throw new FileNotFoundException($"Input file not found: {path}", path);
        using var stream = Utf8Lines.Open(path);
        foreach (var input in Read(stream, path, vocabSize)) yield return input;
    }

    /// <summary>
    /// The inputs of <paramref name="stream"/>, each line parsed as it is reached (so the stream is read once);
    /// <paramref name="path"/> names it in errors.
    /// </summary>
    public static IEnumerable<EmbedInput> Read(Stream stream, string path, int vocabSize)
    {
        foreach (var line in Utf8Lines.Read(stream))
        {
            string where = $"{path}:{line.Number}";
            string text = line.TextOrThrow(where);
            if (string.IsNullOrWhiteSpace(text)) continue;
            yield return Parse(text, vocabSize, where);
        }
    }

    public static EmbedInput Parse(string line, int vocabSize, string where)
    {
        var fields = JsonObjectLine.Parse(line, where);
        JsonElement? id = Field(fields, "id");
        if (Field(fields, "input_ids") is { } idsValue) return new EmbedInput(id, null, null, InputIdsOf(idsValue, vocabSize, where));
        if (Field(fields, "text") is { } textValue)
        {
            if (textValue.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: \"text\" must be a string.");
            string text = textValue.GetString()!;
            if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{where}: \"text\" is empty or whitespace only.");
            string? instruction = null;
            if (Field(fields, "instruction") is { } instructionValue)
            {
                if (instructionValue.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: \"instruction\" must be a string.");
                instruction = instructionValue.GetString()!;
                if (instruction.Length > 0 && string.IsNullOrWhiteSpace(instruction))
                    throw new InvalidDataException($"{where}: \"instruction\" is whitespace only; leave it out (or \"\") for no instruction.");
            }
            bool query = false;
            if (Field(fields, "query") is { } queryValue)
            {
                if (queryValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new InvalidDataException($"{where}: \"query\" must be true or false.");
                query = queryValue.GetBoolean();
                if (!query && !string.IsNullOrEmpty(instruction))
                    throw new InvalidDataException($"{where}: \"query\": false marks a document, which takes no \"instruction\"; drop one of them.");
            }
            return new EmbedInput(id, text, instruction, null) { Query = query };
        }
        throw new InvalidDataException($"{where}: expected \"text\" (with optional \"instruction\" or \"query\") or \"input_ids\".");
    }

    /// <summary>The value of a key that is present and not JSON null.</summary>
    private static JsonElement? Field(Dictionary<string, JsonElement> fields, string key) =>
        fields.TryGetValue(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static int[] InputIdsOf(JsonElement array, int vocabSize, string where)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new InvalidDataException($"{where}: \"input_ids\" must be a non-empty array of integers.");
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var value in array.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int tokenId))
                throw new InvalidDataException($"{where}: \"input_ids\"[{i}] is not an integer.");
            if (tokenId < 0 || tokenId >= vocabSize)
                throw new InvalidDataException($"{where}: \"input_ids\"[{i}] = {tokenId} is out of the vocabulary [0, {vocabSize}).");
            ids[i++] = tokenId;
        }
        return ids;
    }
}
