namespace Trainer.Training;

/// <summary>
/// The learning rate as a pure function of the number of optimizer steps already taken (Hugging Face's convention:
/// the first step uses step = 0). Linear and cosine warm up linearly over <c>warmup</c> steps, then decay to 0 at
/// <c>total</c>; constant warms up, then holds.
/// </summary>
public sealed record LearningRateSchedule(string Name, double BaseRate, int WarmupSteps, int TotalSteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps) return BaseRate * step / Math.Max(1, WarmupSteps);
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Name switch
        {
            "constant" => BaseRate,
            "linear" => BaseRate * Math.Max(0, 1 - progress),
            "cosine" => BaseRate * Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * progress))),
            _ => throw new ArgumentException($"training.lr_scheduler = {Name} is invalid; allowed: constant, linear, cosine."),
        };
    }
}
