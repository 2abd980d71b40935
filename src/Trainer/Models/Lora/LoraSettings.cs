namespace Trainer.Models.Lora;

/// <summary>Which projections get adapters and how they scale: delta = B·A·(alpha / rank).</summary>
public sealed record LoraSettings(int Rank, double Alpha, double Dropout, IReadOnlyList<string> TargetModules)
{
    public static readonly IReadOnlyList<string> AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public double Scaling => Alpha / Rank;

    /// <summary>A module is targeted when its name ends with one of the target suffixes (PEFT's rule).</summary>
    public bool Targets(string moduleName) =>
        TargetModules.Any(t => moduleName == t || moduleName.EndsWith("." + t, StringComparison.Ordinal));
}
