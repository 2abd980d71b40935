using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>Writes variants of a model folder (other dtype, key prefix, shards, edited tensors) for loader tests.</summary>
public static class WeightCopies
{
    public static string Write(string sourceDir, string name, ScalarType dtype, string prefix = "", long maxShardBytes = long.MaxValue,
        Func<string, Tensor, Tensor?>? edit = null, IEnumerable<(string Name, Tensor Value)>? extra = null)
    {
        var dir = TestPaths.TempDir(name);
        foreach (var file in new[] { "config.json", "tokenizer.model" }) File.Copy(Path.Combine(sourceDir, file), Path.Combine(dir, file));
        var source = WeightFiles.Find(sourceDir);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var group in source.TensorToFile.GroupBy(kv => kv.Value))
        {
            using var reader = new SafetensorsReader(group.Key);
            foreach (var (key, _) in group)
            {
                var value = reader.Read(key, ScalarType.Float32);
                var edited = edit is null ? value : edit(key, value);
                if (edited is not null) tensors[prefix + key] = edited.to(dtype);
            }
        }
        foreach (var (key, value) in extra ?? []) tensors[key] = value.to(dtype);
        var layout = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.shape, kv.Value.dtype)).ToList();
        WeightFilesWriter.Write(dir, layout, key => tensors[key].alias(), maxShardBytes);
        foreach (var t in tensors.Values) t.Dispose();
        return dir;
    }
}
