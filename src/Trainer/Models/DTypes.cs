using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>The dtype names users write in configs and on the command line.</summary>
public static class DTypes
{
    public static readonly string[] Names = ["float32", "float16", "bfloat16"];

    public static ScalarType Parse(string name, string key = "dtype") => name switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "float16" or "fp16" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"{key} = '{name}' is invalid; allowed: {string.Join(", ", Names)}."),
    };

    /// <summary>Bytes per element (the one definition; safetensors dtype names map onto it).</summary>
    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        _ => throw new NotSupportedException($"dtype {type} is not supported; use {string.Join(", ", Names)}."),
    };

    public static string Name(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => type.ToString(),
    };

    /// <summary>The device names users write: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (the one definition of that syntax).</summary>
    public static bool IsDeviceName(string name) => System.Text.RegularExpressions.Regex.IsMatch(name, "^(cpu|cuda(:[0-9]+)?)$");

    /// <summary>
    /// A device by name. The syntax is checked first, and CUDA's presence before libtorch is asked for the device, so a
    /// CPU-only build says that CUDA is missing rather than that "cuda" is not a device.
    /// </summary>
    public static Device ParseDevice(string name, string key = "device")
    {
        if (!IsDeviceName(name)) throw new ArgumentException($"{key} = '{name}' is invalid; expected cpu, cuda or cuda:N.");
        if (name.StartsWith("cuda", StringComparison.Ordinal) && !cuda.is_available())
            throw new ArgumentException($"{key} = '{name}': CUDA is not available in this build or on this machine (build with -p:TorchBackend=cuda and run on a GPU machine).");
        return device(name);
    }
}
