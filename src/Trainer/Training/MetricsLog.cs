using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>One logged step: the loss is that of the batch this step trained on.</summary>
public sealed record StepMetrics(int Step, int Epoch, double Loss, double LearningRate, double GradNorm,
    double SamplesPerSecond, double TokensPerSecond, double ElapsedSeconds);

/// <summary>
/// Writes each logged step three ways: a JSON line appended to <c>metrics.jsonl</c>, the same scalars as TensorBoard
/// scalars <c>train/&lt;name&gt;</c> under <c>tensorboard/</c> (the step is the x axis), and a plain console line with
/// an ETA (no carriage returns, so CI logs read the same).
/// A resumed run first drops the lines after its checkpoint's step (<paramref name="resumedStep"/>), so every step
/// appears once. NaN and ±Inf are written as the strings "NaN", "Infinity", "-Infinity".
/// </summary>
public sealed class MetricsLog(string outputDir, TextWriter console, int totalSteps, int resumedStep = 0) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly StreamWriter _jsonl = Open(Path.Combine(outputDir, FileName), resumedStep);
    private readonly SummaryWriter _tensorboard = utils.tensorboard.SummaryWriter(Path.Combine(outputDir, "tensorboard"), createRunName: false);

    /// <summary>Logs one step; <paramref name="eta"/> null prints "ETA estimating" (see <see cref="EtaEstimator"/>).</summary>
    public void Write(StepMetrics m, TimeSpan? eta)
    {
        _jsonl.WriteLine(Serialize(m));
        _jsonl.Flush();
        foreach (var (name, value) in Scalars(m)) _tensorboard.add_scalar("train/" + name, (float)value, m.Step);
        console.WriteLine($"step {m.Step}/{totalSteps} | epoch {m.Epoch} | loss {m.Loss:F4} | lr {m.LearningRate:E2} | grad_norm {m.GradNorm:F3} | " +
                          $"{m.SamplesPerSecond:F1} samples/s | {m.TokensPerSecond:F0} tok/s | elapsed {Format(TimeSpan.FromSeconds(m.ElapsedSeconds))} | " +
                          (eta is TimeSpan left ? $"ETA {Format(left)}" : "ETA estimating"));
    }

    /// <summary>Every value of a metrics.jsonl line but the step, by its JSON name: what TensorBoard gets.</summary>
    public static IReadOnlyList<(string Name, double Value)> Scalars(StepMetrics m) =>
    [
        ("epoch", m.Epoch), ("loss", m.Loss), ("learning_rate", m.LearningRate), ("grad_norm", m.GradNorm),
        ("samples_per_s", m.SamplesPerSecond), ("tokens_per_s", m.TokensPerSecond), ("elapsed_s", m.ElapsedSeconds),
    ];

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
