using System.Text.Json;
using TorchSharp;

namespace Trainer.Models.Weights;

/// <summary>One tensor's entry in a safetensors header: dtype, shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    public torch.ScalarType ScalarType => SafetensorsHeader.ToScalarType(DType, Name);
}

/// <summary>
/// The JSON header of a <c>.safetensors</c> file: an 8-byte little-endian length, then that many bytes of
/// JSON mapping tensor names to {dtype, shape, data_offsets}; the data section follows.
/// </summary>
public sealed class SafetensorsHeader
{
    public required string Path { get; init; }

    /// <summary>File offset where the data section starts.</summary>
    public required long DataStart { get; init; }

    public required IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    public static SafetensorsHeader Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}", path);
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8) throw new InvalidDataException($"{path}: too short to be a safetensors file.");
        long length = BitConverter.ToInt64(lengthBytes);
        if (length <= 0 || length > 100_000_000 || 8 + length > stream.Length)
            throw new InvalidDataException($"{path}: invalid safetensors header length {length}.");
        var json = new byte[length];
        stream.ReadExactly(json);

        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>();
        long dataLength = stream.Length - 8 - length;
        using var doc = JsonDocument.Parse(json);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            var value = property.Value;
            var shape = value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var entry = new SafetensorsEntry(property.Name, value.GetProperty("dtype").GetString() ?? "", shape, offsets[0], offsets[1]);
            long expected = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(entry.DType, entry.Name);
            if (offsets.Length != 2 || entry.ByteLength != expected || entry.End > dataLength)
                throw new InvalidDataException($"{path}: tensor '{property.Name}' has data_offsets [{string.Join(", ", offsets)}] that do not match its shape [{string.Join(", ", shape)}] and dtype {entry.DType}.");
            entries[property.Name] = entry;
        }
        return new SafetensorsHeader { Path = path, DataStart = 8 + length, Entries = entries, Metadata = metadata };
    }

    public static torch.ScalarType ToScalarType(string dtype, string name) => dtype switch
    {
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        "F64" => torch.ScalarType.Float64,
        "I64" => torch.ScalarType.Int64,
        "I32" => torch.ScalarType.Int32,
        _ => throw new NotSupportedException($"Tensor '{name}' has safetensors dtype {dtype}; supported: F32, F16, BF16, F64, I64, I32."),
    };

    public static string ToDTypeName(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.Float16 => "F16",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        _ => throw new NotSupportedException($"Cannot write {type} to safetensors."),
    };

    public static int ElementSize(string dtype, string name) => dtype switch
    {
        "F32" or "I32" => 4,
        "F16" or "BF16" => 2,
        "F64" or "I64" => 8,
        _ => throw new NotSupportedException($"Tensor '{name}' has safetensors dtype {dtype}; supported: F32, F16, BF16, F64, I64, I32."),
    };
}
