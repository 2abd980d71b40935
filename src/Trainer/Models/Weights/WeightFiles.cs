using System.Text.Json;

namespace Trainer.Models.Weights;

/// <summary>
/// The safetensors files of a Hugging Face model folder: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>. Maps each stored tensor name to the file that holds it, and keeps each
/// file's validated header, so names, shapes and dtypes can be checked before anything is allocated.
/// </summary>
public sealed class WeightFiles
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private readonly IReadOnlyDictionary<string, SafetensorsHeader> _headers;

    private WeightFiles(IReadOnlyDictionary<string, string> tensorToFile, IReadOnlyDictionary<string, SafetensorsHeader> headers) =>
        (TensorToFile, _headers) = (tensorToFile, headers);

    /// <summary>Stored tensor name → absolute path of its file.</summary>
    public IReadOnlyDictionary<string, string> TensorToFile { get; }

    public IEnumerable<string> Files => TensorToFile.Values.Distinct();

    /// <summary>The header entry (dtype, shape, offsets) of a stored tensor.</summary>
    public SafetensorsEntry Entry(string storedName) => _headers[TensorToFile[storedName]].Entries[storedName];

    public static WeightFiles Find(string modelDir)
    {
        var index = Path.Combine(modelDir, IndexFile);
        var single = Path.Combine(modelDir, SingleFile);
        if (File.Exists(index)) return FromIndex(modelDir, index);
        if (File.Exists(single))
        {
            var header = SafetensorsHeader.Read(single);
            return new WeightFiles(header.Entries.Keys.ToDictionary(k => k, _ => single, StringComparer.Ordinal),
                new Dictionary<string, SafetensorsHeader> { [single] = header });
        }
        throw new FileNotFoundException($"No weights in {modelDir}: expected {single} or {index}.", single);
    }

    private static WeightFiles FromIndex(string modelDir, string index)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(index));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{index}: not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{index}: missing \"weight_map\" (an object of tensor name → file name).");
            var tensorToFile = new Dictionary<string, string>(StringComparer.Ordinal);
            var headers = new Dictionary<string, SafetensorsHeader>();
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{index}: \"weight_map\".\"{entry.Name}\" must be a file name, not {entry.Value.ValueKind}.");
                var file = Path.Combine(modelDir, entry.Value.GetString()!);
                if (!File.Exists(file)) throw new FileNotFoundException($"{index} lists {entry.Name} in {file}, which does not exist.", file);
                if (!headers.TryGetValue(file, out var header)) headers[file] = header = SafetensorsHeader.Read(file);
                if (!header.Entries.ContainsKey(entry.Name))
                    throw new InvalidDataException($"{index} lists tensor '{entry.Name}' in {file}, whose header has no such tensor.");
                tensorToFile[entry.Name] = file;
            }
            return new WeightFiles(tensorToFile, headers);
        }
    }
}
