namespace Trainer.Training;

/// <summary>Training produced a NaN or Inf loss, gradient norm or adapter weight at <see cref="Step"/>; the run stops (the CLI prints one line, exit 1).</summary>
public sealed class TrainingDivergedException(int step, string message) : InvalidOperationException(message)
{
    public int Step { get; } = step;
}
