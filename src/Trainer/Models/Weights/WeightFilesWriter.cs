using System.Text.Json;
using static TorchSharp.torch;

namespace Trainer.Models.Weights;

/// <summary>
/// Writes tensors in the Hugging Face layout: one <c>model.safetensors</c> when everything fits in
/// <c>maxShardBytes</c>, otherwise <c>model-0000k-of-0000n.safetensors</c> shards plus
/// <c>model.safetensors.index.json</c> (what <see cref="WeightFiles"/> reads). Tensors are produced one at a time by the caller.
/// </summary>
public static class WeightFilesWriter
{
    public const long DefaultMaxShardBytes = 5_000_000_000;

    public static void Write(string dir, IReadOnlyList<(string Name, long[] Shape, ScalarType DType)> layout,
        Func<string, Tensor> produce, long maxShardBytes = DefaultMaxShardBytes)
    {
        Directory.CreateDirectory(dir);
        var shards = new List<List<(string Name, long[] Shape, ScalarType DType)>> { new() };
        long shardBytes = 0, totalBytes = 0;
        foreach (var item in layout)
        {
            long bytes = item.Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsHeader.ElementSize(SafetensorsHeader.ToDTypeName(item.DType), item.Name);
            if (shards[^1].Count > 0 && shardBytes + bytes > maxShardBytes)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(item);
            shardBytes += bytes;
            totalBytes += bytes;
        }

        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(dir, WeightFiles.SingleFile), layout, produce, Format);
            return;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(dir, file), shards[i], produce, Format);
            foreach (var item in shards[i]) weightMap[item.Name] = file;
        }
        var index = new { metadata = new { total_size = totalBytes }, weight_map = weightMap };
        File.WriteAllText(Path.Combine(dir, WeightFiles.IndexFile), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static readonly Dictionary<string, string> Format = new() { ["format"] = "pt" };
}
