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

    public static string Name(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => type.ToString(),
    };

    public static Device ParseDevice(string name, string key = "device")
    {
        try
        {
            var parsed = device(name);
            if (parsed.type == TorchSharp.DeviceType.CUDA && !cuda.is_available())
                throw new ArgumentException($"{key} = '{name}': CUDA is not available in this build or machine (build with -p:TorchBackend=cuda on a GPU machine).");
            return parsed;
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"{key} = '{name}' is invalid; expected cpu, cuda or cuda:N.", e);
        }
    }
}
