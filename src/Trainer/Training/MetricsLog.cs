using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>One logged step: the loss is that of the batch this step trained on.</summary>
public sealed record StepMetrics(int Step, int Epoch, double Loss, double LearningRate, double GradNorm,
    double SamplesPerSecond, double TokensPerSecond, double ElapsedSeconds);

/// <summary>
/// Writes each logged step three ways: a JSON line appended to <c>metrics.jsonl</c>, TensorBoard scalars under
/// <c>tensorboard/</c>, and a plain console line with an ETA (no carriage returns, so CI logs read the same).
/// A resumed run first drops the lines after its checkpoint's step (<paramref name="resumedStep"/>), so every step
/// appears once. NaN and ±Inf are written as the strings "NaN", "Infinity", "-Infinity".
/// </summary>
public sealed class MetricsLog(string outputDir, TextWriter console, int totalSteps, int resumedStep = 0) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly StreamWriter _jsonl = Open(Path.Combine(outputDir, FileName), resumedStep);
    private readonly SummaryWriter _tensorboard = utils.tensorboard.SummaryWriter(Path.Combine(outputDir, "tensorboard"), createRunName: false);

    public void Write(StepMetrics m, double secondsPerStep)
    {
        _jsonl.WriteLine(Serialize(m));
        _jsonl.Flush();
        _tensorboard.add_scalar("train/loss", (float)m.Loss, m.Step);
        _tensorboard.add_scalar("train/learning_rate", (float)m.LearningRate, m.Step);
        _tensorboard.add_scalar("train/grad_norm", (float)m.GradNorm, m.Step);
        _tensorboard.add_scalar("train/tokens_per_s", (float)m.TokensPerSecond, m.Step);
        var eta = TimeSpan.FromSeconds(Math.Max(0, totalSteps - m.Step) * secondsPerStep);
        console.WriteLine($"step {m.Step}/{totalSteps} | epoch {m.Epoch} | loss {m.Loss:F4} | lr {m.LearningRate:E2} | grad_norm {m.GradNorm:F3} | " +
                          $"{m.SamplesPerSecond:F1} samples/s | {m.TokensPerSecond:F0} tok/s | elapsed {Format(TimeSpan.FromSeconds(m.ElapsedSeconds))} | ETA {Format(eta)}");
    }

    /// <summary>The JSON line of one step.</summary>
    public static string Serialize(StepMetrics m) => JsonSerializer.Serialize(new
    {
        step = m.Step,
        epoch = m.Epoch,
        loss = m.Loss,
        learning_rate = m.LearningRate,
        grad_norm = m.GradNorm,
        samples_per_s = m.SamplesPerSecond,
        tokens_per_s = m.TokensPerSecond,
        elapsed_s = m.ElapsedSeconds,
    }, Json);

    /// <summary>Keeps the lines of steps ≤ <paramref name="lastStep"/> (rewritten through a temporary file and a rename), then opens the file to append.</summary>
    private static StreamWriter Open(string path, int lastStep)
    {
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path);
            var kept = lines.Where(l => StepOf(l) <= lastStep).ToList();
            if (kept.Count != lines.Length)
            {
                var temp = path + ".tmp";
                File.WriteAllLines(temp, kept);
                File.Move(temp, path, overwrite: true);
            }
        }
        return new StreamWriter(path, append: true);
    }

    /// <summary>The step of a metrics line; a torn or unreadable line (a crash mid-write) counts as past every step.</summary>
    private static int StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("step").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return int.MaxValue;
        }
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t:mm\\:ss}" : $"{t:m\\:ss}";

    public void Dispose() => _jsonl.Dispose();
}
