using System.Text.Json;

namespace Trainer.Models.Weights;

/// <summary>
/// The safetensors files of a Hugging Face model folder: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>. Maps each stored tensor name to the file that holds it.
/// </summary>
public sealed class CheckpointFiles
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private CheckpointFiles(IReadOnlyDictionary<string, string> tensorToFile) => TensorToFile = tensorToFile;

    /// <summary>Stored tensor name → absolute path of its file.</summary>
    public IReadOnlyDictionary<string, string> TensorToFile { get; }

    public IEnumerable<string> Files => TensorToFile.Values.Distinct();

    public static CheckpointFiles Find(string modelDir)
    {
        var index = Path.Combine(modelDir, IndexFile);
        var single = Path.Combine(modelDir, SingleFile);
        if (File.Exists(index))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map))
                throw new InvalidDataException($"{index}: missing \"weight_map\".");
            var tensorToFile = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var file = Path.Combine(modelDir, entry.Value.GetString() ?? "");
                if (!File.Exists(file)) throw new FileNotFoundException($"{index} lists {entry.Name} in {file}, which does not exist.", file);
                tensorToFile[entry.Name] = file;
            }
            return new CheckpointFiles(tensorToFile);
        }
        if (File.Exists(single))
        {
            var header = SafetensorsHeader.Read(single);
            return new CheckpointFiles(header.Entries.Keys.ToDictionary(k => k, _ => single, StringComparer.Ordinal));
        }
        throw new FileNotFoundException($"No weights in {modelDir}: expected {single} or {index}.", single);
    }
}
