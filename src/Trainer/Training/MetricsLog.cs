using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>One logged step: the loss is that of the batch this step trained on.</summary>
public sealed record StepMetrics(int Step, int Epoch, double Loss, double LearningRate, double GradNorm,
    double SamplesPerSecond, double TokensPerSecond, double ElapsedSeconds);

/// <summary>
/// Writes each logged step three ways: a JSON line appended to <c>metrics.jsonl</c>, TensorBoard scalars under
/// <c>tensorboard/</c>, and a plain console line with an ETA (no carriage returns, so CI logs read the same).
/// </summary>
public sealed class MetricsLog(string outputDir, TextWriter console, int totalSteps) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _jsonl = new(Path.Combine(outputDir, FileName), append: true);
    private readonly SummaryWriter _tensorboard = utils.tensorboard.SummaryWriter(Path.Combine(outputDir, "tensorboard"), createRunName: false);

    public void Write(StepMetrics m, double secondsPerStep)
    {
        _jsonl.WriteLine(JsonSerializer.Serialize(new
        {
            step = m.Step,
            epoch = m.Epoch,
            loss = m.Loss,
            learning_rate = m.LearningRate,
            grad_norm = m.GradNorm,
            samples_per_s = m.SamplesPerSecond,
            tokens_per_s = m.TokensPerSecond,
            elapsed_s = m.ElapsedSeconds,
        }));
        _jsonl.Flush();
        _tensorboard.add_scalar("train/loss", (float)m.Loss, m.Step);
        _tensorboard.add_scalar("train/learning_rate", (float)m.LearningRate, m.Step);
        _tensorboard.add_scalar("train/grad_norm", (float)m.GradNorm, m.Step);
        _tensorboard.add_scalar("train/tokens_per_s", (float)m.TokensPerSecond, m.Step);
        var eta = TimeSpan.FromSeconds(Math.Max(0, totalSteps - m.Step) * secondsPerStep);
        console.WriteLine($"step {m.Step}/{totalSteps} | epoch {m.Epoch} | loss {m.Loss:F4} | lr {m.LearningRate:E2} | grad_norm {m.GradNorm:F3} | " +
                          $"{m.SamplesPerSecond:F1} samples/s | {m.TokensPerSecond:F0} tok/s | elapsed {Format(TimeSpan.FromSeconds(m.ElapsedSeconds))} | ETA {Format(eta)}");
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t:mm\\:ss}" : $"{t:m\\:ss}";

    public void Dispose() => _jsonl.Dispose();
}
