using System.Globalization;
using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// Refuses to build a model that cannot fit in memory: the bytes an <see cref="EmbeddingDecoder"/> allocates (base
/// parameters in the target dtype plus float32 LoRA adapters), computed from its family's config alone, against the memory
/// the machine has available (Linux: MemAvailable in /proc/meminfo, never more than the runtime's own limit, which
/// honours container limits). CUDA devices are not checked here: libtorch reports its own out-of-memory error.
/// </summary>
public static class ModelMemory
{
    public static long RequiredBytes(ModelFamily family, ScalarType dtype, LoraSettings? lora)
    {
        try
        {
            return checked(family.ParameterCount() * DTypes.ElementSize(dtype) + (lora is null ? 0 : family.LoraParameterCount(lora) * 4));
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>Bytes of memory available to a new allocation on <paramref name="device"/> and where that figure comes from; null when not known.</summary>
    public static (long Bytes, string Source)? Available(Device device)
    {
        if (device.type != TorchSharp.DeviceType.CPU) return null;
        long runtime = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long? meminfo = MemAvailable();
        if (meminfo is long m && (runtime <= 0 || m <= runtime)) return (m, "MemAvailable in /proc/meminfo");
        return runtime > 0 ? (runtime, "the .NET runtime's available memory") : null;
    }

    /// <summary>Throws when <paramref name="required"/> exceeds <paramref name="available"/>, naming both.</summary>
    public static void Check(long required, long available, string availableSource, string what)
    {
        if (required > available)
            throw new InvalidOperationException($"{what} needs {Describe(required)}, more than the {Describe(available)} of memory available ({availableSource}); " +
                                                "use a smaller model or dtype, or free memory.");
    }

    /// <summary>Checks the model that <see cref="PretrainedLoader.Load"/> is about to build on <paramref name="device"/>.</summary>
    public static void Check(ModelFamily family, ScalarType dtype, LoraSettings? lora, Device device, string modelDir)
    {
        if (Available(device) is not var (available, source)) return;
        string what = $"Model {modelDir} in {DTypes.Name(dtype)}{(lora is null ? "" : $" with LoRA rank {lora.Rank}")}";
        Check(RequiredBytes(family, dtype, lora), available, source, what);
    }

    private static string Describe(long bytes) =>
        bytes == long.MaxValue ? "more than 2^63 bytes" : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes ({bytes / (double)(1L << 30):F2} GiB)");

    private static long? MemAvailable()
    {
        const string path = "/proc/meminfo";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries); // "MemAvailable:", "24216772", "kB"
            return parts.Length >= 2 && long.TryParse(parts[1], out long kib) ? kib * 1024 : null;
        }
        return null;
    }
}
