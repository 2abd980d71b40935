using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trainer.Inference;

/// <summary>
/// One line of an embed/tokenize input file: <c>{"text": "...", "instruction": "..."}</c> (instruction optional)
/// or <c>{"input_ids": [...]}</c>, optionally with an <c>"id"</c> of any JSON type that is carried to the output.
/// </summary>
public sealed record EmbedInput(JsonNode? Id, string? Text, string? Instruction, int[]? InputIds)
{
    /// <summary>Reads and validates every line; a bad line throws naming the file and line number.</summary>
    public static List<EmbedInput> ReadAll(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Input file not found: {path}", path);
        var inputs = new List<EmbedInput>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            inputs.Add(Parse(line, vocabSize, $"{path}:{lineNumber}"));
        }
        return inputs;
    }

    public static EmbedInput Parse(string line, int vocabSize, string where)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"{where}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: invalid JSON ({e.Message})");
        }
        var id = obj["id"]?.DeepClone();
        if (obj["input_ids"] is JsonNode idsNode)
        {
            if (idsNode is not JsonArray array || array.Count == 0)
                throw new InvalidDataException($"{where}: \"input_ids\" must be a non-empty array of integers.");
            var ids = new int[array.Count];
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonValue value || !value.TryGetValue(out int tokenId))
                    throw new InvalidDataException($"{where}: \"input_ids\"[{i}] is not an integer.");
                if (tokenId < 0 || tokenId >= vocabSize)
                    throw new InvalidDataException($"{where}: \"input_ids\"[{i}] = {tokenId} is out of the vocabulary [0, {vocabSize}).");
                ids[i] = tokenId;
            }
            return new EmbedInput(id, null, null, ids);
        }
        if (obj["text"] is JsonNode textNode)
        {
            if (textNode.GetValueKind() != JsonValueKind.String)
                throw new InvalidDataException($"{where}: \"text\" must be a string.");
            string? instruction = null;
            if (obj["instruction"] is JsonNode instructionNode)
            {
                if (instructionNode.GetValueKind() != JsonValueKind.String)
                    throw new InvalidDataException($"{where}: \"instruction\" must be a string.");
                instruction = instructionNode.GetValue<string>();
            }
            return new EmbedInput(id, textNode.GetValue<string>(), instruction, null);
        }
        throw new InvalidDataException($"{where}: expected \"text\" (with optional \"instruction\") or \"input_ids\".");
    }
}
