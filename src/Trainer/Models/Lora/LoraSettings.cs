namespace Trainer.Models.Lora;

/// <summary>
/// Which projections get adapters and how they scale: delta = B·A·(alpha / rank). <paramref name="InModelDtype"/>:
/// on a bfloat16 or float16 base, the adapter's matmuls run in that dtype (config <c>lora.compute_dtype: model</c>);
/// otherwise, and always on a float32 base, in float32 (<c>float32</c>, PEFT's numerics). The parameters stay float32.
/// </summary>
public sealed record LoraSettings(int Rank, double Alpha, double Dropout, IReadOnlyList<string> TargetModules, bool InModelDtype = false)
{
    public static readonly IReadOnlyList<string> AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>The values of <c>lora.compute_dtype</c>: float32 (the default), or the model's dtype.</summary>
    public static readonly string[] ComputeDtypes = ["float32", "model"];

    public double Scaling => Alpha / Rank;

    /// <summary>A module is targeted when its name ends with one of the target suffixes (PEFT's rule).</summary>
    public bool Targets(string moduleName) =>
        TargetModules.Any(t => moduleName == t || moduleName.EndsWith("." + t, StringComparison.Ordinal));
}
