using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Weights;

/// <summary>
/// Streams tensors out of a safetensors file through one fixed-size buffer, so that loading never holds more
/// than the destination tensors plus <see cref="ChunkBytes"/> of file data in memory.
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    public const int ChunkBytes = 64 << 20;

    private readonly FileStream _stream;
    private Tensor? _staging; // [ChunkBytes] bytes of CPU memory, reinterpreted per source dtype

    public SafetensorsReader(string path)
    {
        Header = SafetensorsHeader.Read(path);
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
    }

    public SafetensorsHeader Header { get; }

    /// <summary>Copies the stored tensor into <paramref name="destination"/> (same shape), converting dtype on the way.</summary>
    public void CopyInto(string name, Tensor destination)
    {
        var entry = Entry(name);
        if (destination.is_floating_point() && !entry.IsFloatingPoint)
            throw new InvalidDataException($"{Header.Path}: tensor '{name}' is stored as {entry.DType}; a floating-point parameter loads only from {string.Join(", ", SafetensorsHeader.FloatDTypes)}.");
        if (!destination.shape.SequenceEqual(entry.Shape))
            throw new InvalidDataException($"Tensor '{name}' in {Header.Path} has shape [{string.Join(", ", entry.Shape)}], the model expects [{string.Join(", ", destination.shape)}].");
        if (!destination.is_contiguous()) throw new ArgumentException($"Destination for '{name}' must be contiguous.");

        int elementSize = SafetensorsHeader.ElementSize(entry.DType, name);
        long chunkElements = ChunkBytes / elementSize;
        _stream.Position = Header.DataStart + entry.Begin;

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flat = destination.view(-1);
        long total = entry.ByteLength / elementSize;
        for (long start = 0; start < total; start += chunkElements)
        {
            long count = Math.Min(chunkElements, total - start);
            using var staging = Staging(entry.ScalarType, chunkElements).narrow(0, 0, count);
            _stream.ReadExactly(staging.bytes);
            flat.narrow(0, start, count).copy_(staging);
        }
    }

    /// <summary>Reads a tensor into a new CPU tensor of the given dtype (the stored dtype when null).</summary>
    public Tensor Read(string name, ScalarType? dtype = null)
    {
        var entry = Entry(name);
        var tensor = empty(entry.Shape, dtype ?? entry.ScalarType);
        CopyInto(name, tensor);
        return tensor;
    }

    private SafetensorsEntry Entry(string name) =>
        Header.Entries.TryGetValue(name, out var entry) ? entry : throw new InvalidDataException($"{Header.Path}: no tensor '{name}' in this file.");

    private Tensor Staging(ScalarType dtype, long elements)
    {
        if (_staging is null || _staging.dtype != dtype)
        {
            _staging?.Dispose();
            _staging = empty(elements, dtype).DetachFromDisposeScope();
        }
        return _staging;
    }

    public void Dispose()
    {
        _staging?.Dispose();
        _stream.Dispose();
    }
}
