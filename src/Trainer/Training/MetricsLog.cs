using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using Trainer.Evaluation;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// One logged step: the loss is that of the batch this step trained on. <see cref="MaskedCandidates"/> is how many
/// candidates the false-negative filter (<c>loss.false_negative_margin</c>) took out of the softmax, summed over the
/// rows; null (and not logged) with the filter off.
/// </summary>
public sealed record StepMetrics(int Step, int Epoch, double Loss, double LearningRate, double GradNorm,
    double SamplesPerSecond, double TokensPerSecond, double ElapsedSeconds, int? MaskedCandidates = null)
{
    /// <summary>Across processes: the step's time in collectives; null in one process.</summary>
    public StepCommunication? Communication { get; init; }
}

/// <summary>Milliseconds a step spent in all-gathers and all-reduces, and their share (0–1) of the step's wall time.</summary>
public sealed record StepCommunication(double AllGatherMs, double AllReduceMs, double Share);

/// <summary>
/// Writes each logged step three ways: a JSON line appended to <c>metrics.jsonl</c>, the same scalars as TensorBoard
/// scalars <c>train/&lt;name&gt;</c> under <c>tensorboard/</c> (the step is the x axis), and a plain console line with
/// an ETA (no carriage returns, so CI logs read the same). Each evaluation is a line of its own, with the same step
/// and <c>eval_</c> fields, and TensorBoard scalars <c>eval/&lt;name&gt;</c>.
/// A resumed run first drops the lines after its checkpoint's step (<paramref name="resumedStep"/>), so every step's
/// lines appear once. NaN and ±Inf are written as the strings "NaN", "Infinity", "-Infinity".
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
                          (m.MaskedCandidates is int masked ? $"masked {masked} | " : "") +
                          $"{m.SamplesPerSecond:F1} samples/s | {m.TokensPerSecond:F0} tok/s | " +
                          (m.Communication is { } c ? $"comm {c.AllGatherMs:F1}+{c.AllReduceMs:F1} ms ({100 * c.Share:F1}%) | " : "") + $"elapsed {Format(TimeSpan.FromSeconds(m.ElapsedSeconds))} | " +
                          (eta is TimeSpan left ? $"ETA {Format(left)}" : "ETA estimating"));
    }

    /// <summary>Logs one evaluation: a metrics.jsonl line, <c>eval/&lt;name&gt;</c> scalars and a console line.</summary>
    public void WriteEval(EvalMetrics e)
    {
        _jsonl.WriteLine(Serialize(e));
        _jsonl.Flush();
        foreach (var (name, value) in Scalars(e)) _tensorboard.add_scalar("eval/" + name, (float)value, e.Step);
        if (e.Task is { } task)
            console.WriteLine($"eval step {e.Step}/{totalSteps} | {task} {e.Split}: {e.Queries} texts | " +
                              string.Join(" | ", Measures(e).Select(m => $"{m.Name} {m.Value:F4}")) + $" | {e.Seconds:F1} s");
        else
            console.WriteLine($"eval step {e.Step}/{totalSteps} | {e.Split}: {e.Queries} queries | " +
                              string.Join(" | ", RetrievalMetrics.Reported.Select(m => $"{m.Label} {e.Mean[m.Name]:F4}")) + $" | {e.Seconds:F1} s");
    }

    /// <summary>Every value of an evaluation line but the step, by its JSON name less the <c>eval_</c> prefix: what TensorBoard gets.</summary>
    public static IReadOnlyList<(string Name, double Value)> Scalars(EvalMetrics e) =>
    [
        .. Measures(e), ("queries", e.Queries), ("runtime_s", e.Seconds),
    ];

    /// <summary>Retrieval's four measures in their order; an MTEB task's main_score first, then its other measures by name.</summary>
    private static IEnumerable<(string Name, double Value)> Measures(EvalMetrics e) => e.Task is null
        ? RetrievalMetrics.Reported.Select(m => (m.Name, e.Mean[m.Name]))
        : e.Mean.OrderBy(kv => kv.Key == "main_score" ? "" : kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value));

    /// <summary>The JSON line of one evaluation: <c>{"step": N, "eval_ndcg_at_10": …, …, "eval_queries": Q, "eval_runtime_s": S}</c>.</summary>
    public static string Serialize(EvalMetrics e)
    {
        var line = new JsonObject { ["step"] = e.Step };
        foreach (var (name, value) in Scalars(e)) line["eval_" + name] = name == "queries" ? e.Queries : value;
        return line.ToJsonString(Json);
    }

    /// <summary>Every value of a metrics.jsonl line but the step, by its JSON name: what TensorBoard gets.</summary>
    public static IReadOnlyList<(string Name, double Value)> Scalars(StepMetrics m) =>
    [
        ("epoch", m.Epoch), ("loss", m.Loss), ("learning_rate", m.LearningRate), ("grad_norm", m.GradNorm),
        ("samples_per_s", m.SamplesPerSecond), ("tokens_per_s", m.TokensPerSecond), ("elapsed_s", m.ElapsedSeconds),
        .. m.MaskedCandidates is int masked ? [("masked_candidates", (double)masked)] : Array.Empty<(string, double)>(),
        .. m.Communication is { } c ? new[] { ("comm_allgather_ms", c.AllGatherMs), ("comm_allreduce_ms", c.AllReduceMs), ("comm_share", c.Share) } : [],
    ];

    /// <summary>
    /// The JSON line of one step (<c>masked_candidates</c> only with the false-negative filter on; across processes
    /// also comm_allgather_ms, comm_allreduce_ms and comm_share).
    /// </summary>
    public static string Serialize(StepMetrics m)
    {
        var line = JsonSerializer.SerializeToNode(new
        {
            step = m.Step,
            epoch = m.Epoch,
            loss = m.Loss,
            learning_rate = m.LearningRate,
            grad_norm = m.GradNorm,
            samples_per_s = m.SamplesPerSecond,
            tokens_per_s = m.TokensPerSecond,
            elapsed_s = m.ElapsedSeconds,
        }, Json)!.AsObject();
        if (m.MaskedCandidates is int masked) line["masked_candidates"] = masked;
        if (m.Communication is { } c)
        {
            line["comm_allgather_ms"] = c.AllGatherMs;
            line["comm_allreduce_ms"] = c.AllReduceMs;
            line["comm_share"] = c.Share;
        }
        return line.ToJsonString(Json);
    }

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
