using System.Text.Json;
using TorchSharp;

namespace Trainer.Models.Weights;

/// <summary>One tensor's entry in a safetensors header: dtype, shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    public torch.ScalarType ScalarType => SafetensorsHeader.ToScalarType(DType, Name);

    /// <summary>F32, F16, BF16 or F64: the dtypes a floating-point parameter may be loaded from.</summary>
    public bool IsFloatingPoint => SafetensorsHeader.FloatDTypes.Contains(DType);
}

/// <summary>
/// The JSON header of a <c>.safetensors</c> file: an 8-byte little-endian length, then that many bytes of
/// JSON mapping tensor names to {dtype, shape, data_offsets}; the data section follows. <see cref="Read"/>
/// validates it like the safetensors library does: every entry well-formed, 0 ≤ begin ≤ end ≤ data length, byte
/// length = product(shape) × dtype size, and no two entries overlapping, so no header byte or foreign tensor can be
/// read as weights.
/// </summary>
public sealed class SafetensorsHeader
{
    public const long MaxHeaderBytes = 100_000_000;

    public static readonly string[] FloatDTypes = ["F32", "F16", "BF16", "F64"];
    private static readonly string[] SupportedDTypes = ["F32", "F16", "BF16", "F64", "I64", "I32"];

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
        if (length <= 0 || length > MaxHeaderBytes || 8 + length > stream.Length)
            throw new InvalidDataException($"{path}: invalid safetensors header length {length}.");
        var json = new byte[length];
        stream.ReadExactly(json);
        long dataLength = stream.Length - 8 - length;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: the safetensors header must be a JSON object, not {doc.RootElement.ValueKind}.");
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                var entry = ReadEntry(path, property.Name, property.Value, dataLength);
                if (!entries.TryAdd(entry.Name, entry)) throw new InvalidDataException($"{path}: tensor '{entry.Name}' appears twice in the header.");
            }
            CheckNoOverlap(path, entries.Values);
            return new SafetensorsHeader { Path = path, DataStart = 8 + length, Entries = entries, Metadata = metadata };
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: \"__metadata__\" must be an object of strings, not {value.ValueKind}.");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: \"__metadata__\".\"{m.Name}\" must be a string, not {m.Value.ValueKind}.");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    /// <summary>One entry, with every field checked; the message names the file and the tensor.</summary>
    private static SafetensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        InvalidDataException Bad(string problem) => new($"{path}: tensor '{name}' {problem}.");

        if (value.ValueKind != JsonValueKind.Object) throw Bad($"must be an object with dtype, shape and data_offsets, not {value.ValueKind}");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Bad("needs \"dtype\" as a string");
        string dtype = dtypeElement.GetString()!;
        if (!SupportedDTypes.Contains(dtype)) throw Bad($"has dtype '{dtype}'; supported: {string.Join(", ", SupportedDTypes)}");

        var shape = Integers(value, "shape") ?? throw Bad("needs \"shape\" as an array of integers");
        if (shape.Any(d => d < 0)) throw Bad($"has shape [{string.Join(", ", shape)}]; dimensions must be ≥ 0");
        var offsets = Integers(value, "data_offsets");
        if (offsets is not { Length: 2 }) throw Bad("needs \"data_offsets\" as two integers [begin, end]");
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin < 0 || begin > end || end > dataLength)
            throw Bad($"has data_offsets [{begin}, {end}]; they must satisfy 0 ≤ begin ≤ end ≤ {dataLength} (the data section's length)");

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype, name));
        }
        catch (OverflowException)
        {
            throw Bad($"has shape [{string.Join(", ", shape)}], whose byte length overflows a 64-bit integer");
        }
        if (end - begin != expected)
            throw Bad($"has data_offsets [{begin}, {end}] ({end - begin} bytes), but shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes");
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    /// <summary>The property as an array of 64-bit integers, or null when it is absent or anything else.</summary>
    private static long[]? Integers(JsonElement value, string property)
    {
        if (!value.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array) return null;
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long n)) return null;
            result[i++] = n;
        }
        return result;
    }

    private static void CheckNoOverlap(string path, IEnumerable<SafetensorsEntry> entries)
    {
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (previous is not null && entry.Begin < previous.End)
                throw new InvalidDataException($"{path}: tensors '{previous.Name}' [{previous.Begin}, {previous.End}) and '{entry.Name}' [{entry.Begin}, {entry.End}) overlap in the data section.");
            previous = entry;
        }
    }

    public static torch.ScalarType ToScalarType(string dtype, string name) => dtype switch
    {
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        "F64" => torch.ScalarType.Float64,
        "I64" => torch.ScalarType.Int64,
        "I32" => torch.ScalarType.Int32,
        _ => throw new NotSupportedException($"Tensor '{name}' has safetensors dtype {dtype}; supported: {string.Join(", ", SupportedDTypes)}."),
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

    public static int ElementSize(string dtype, string name) => DTypes.ElementSize(ToScalarType(dtype, name));
}
