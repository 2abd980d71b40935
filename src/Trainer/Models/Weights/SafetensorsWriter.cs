using System.Text.Json;
using static TorchSharp.torch;

namespace Trainer.Models.Weights;

/// <summary>Writes named tensors to one safetensors file, tensor by tensor (header first, 8-byte aligned).</summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order. Each value is produced lazily and disposed after it is
    /// written, so a caller can stream a model through without materialising it twice.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, ScalarType DType)> layout,
        Func<string, Tensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, shape, dtype) in layout)
        {
            string dtypeName = SafetensorsHeader.ToDTypeName(dtype);
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * SafetensorsHeader.ElementSize(dtypeName, name);
            header[name] = new { dtype = dtypeName, shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;

        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (name, shape, dtype) in layout)
            {
                using var scope = NewDisposeScope();
                var tensor = produce(name);
                if (!tensor.shape.SequenceEqual(shape))
                    throw new InvalidOperationException($"Tensor '{name}' has shape [{string.Join(", ", tensor.shape)}], the layout says [{string.Join(", ", shape)}].");
                var data = tensor.to(dtype).cpu().contiguous();
                stream.Write(data.bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes a dictionary of tensors in name order, keeping their dtypes.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var layout = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key, kv.Value.shape, kv.Value.dtype)).ToList();
        Write(path, layout, name => tensors[name].alias(), metadata);
    }

}
