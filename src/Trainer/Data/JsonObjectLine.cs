using System.Text.Json;

namespace Trainer.Data;

/// <summary>
/// One line of a JSONL file as its object's fields, for every JSONL reader (training rows, BEIR corpus and queries,
/// embed input): invalid JSON, anything but an object, and a key that appears twice are errors that name the line.
/// </summary>
public static class JsonObjectLine
{
    /// <summary>The fields of <paramref name="line"/> (values cloned: they outlive the parse); <paramref name="where"/> is "file:line".</summary>
    public static Dictionary<string, JsonElement> Parse(string line, string where)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: invalid JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected a JSON object.");
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!fields.TryAdd(property.Name, property.Value.Clone()))
                    throw new InvalidDataException($"{where}: duplicate key \"{property.Name}\"; each key may appear once per line.");
            }
            return fields;
        }
    }
}
