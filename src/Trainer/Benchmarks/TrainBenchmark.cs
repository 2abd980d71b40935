using System.Globalization;
using System.Text.Json;
using Trainer.Config;
using Trainer.Models;
using Trainer.Models.Weights;
using Trainer.Training;

namespace Trainer.Benchmarks;

/// <summary>
/// <c>trainer benchmark train</c>: trains <c>steps</c> steps with the real training loop (<see cref="TrainingRun"/>) on
/// a config's model, data, batch and devices, in a scratch output_dir (no evaluation, one checkpoint at the end, deleted
/// afterwards), and reports over the steps after the warm-up: seconds per step, real (unpadded) tokens per second, and
/// matmul TFLOP/s counted as the PyTorch baseline (scripts/gpu/peer_train.py) counts them, 4 × non-embedding
/// parameters × real tokens (the frozen base's forward and input gradients; attention and LoRA not counted); then the
/// peak GPU memory (<see cref="GpuMemorySampler"/>) and the peak RSS.
///
/// A step's time is the trainer's own step clock (metrics.jsonl): from zeroing the gradients through the optimizer
/// step, with the loss and the gradient norm read back on the host inside it. The optimizer's kernels may still be
/// running on the GPU when the clock stops; they then delay the next step, so the mean over several steps counts them.
///
/// With <c>breakdown</c>, a <see cref="StepBreakdown"/> also times each phase of the steps after the warm-up, and the
/// forward per module kind, synchronising the device at every boundary (one device only).
/// </summary>
public static class TrainBenchmark
{
    public sealed record Result(
        double SecondsPerStep, double RealTokensPerSecond, double MatmulTflops, long NonEmbeddingParameters,
        long? PeakGpuBytes, string? GpuUnavailable, long PeakRssBytes, IReadOnlyList<double> Losses, StepBreakdownReport? Breakdown = null);

    /// <param name="negativesPerQuery">Sets data.negatives_per_query (after <paramref name="overrides"/>): the cost of k hard negatives per row.</param>
    public static Result Run(string configPath, IReadOnlyList<string> overrides, int steps, int warmup, TextWriter output, bool breakdown = false, int? negativesPerQuery = null)
    {
        if (negativesPerQuery is < 1) throw new ArgumentException($"--negatives = {negativesPerQuery} is invalid; expected 1 or more.");
        if (steps < 1) throw new ArgumentException($"--steps = {steps} is invalid; expected 1 or more.");
        if (warmup < 0 || warmup >= steps) throw new ArgumentException($"--warmup = {warmup} is invalid; expected 0 to {steps - 1} (fewer than --steps).");
        var scratch = Path.Combine(Path.GetTempPath(), $"trainer-benchmark-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        string[] forced = [$"output_dir={scratch}", $"training.max_steps={steps}", "training.log_every_steps=1", $"checkpoint.every_steps={steps}",
                           "checkpoint.keep_last=1", "checkpoint.keep_best=null", "eval.data=null"];
        string[] negatives = negativesPerQuery is int k ? [$"data.negatives_per_query={k}"] : [];
        var config = ConfigLoader.Load(configPath, [.. overrides, .. negatives, .. forced]);
        var t = config.Training;
        var devices = t.ReplicaDevices();
        if (breakdown && devices.Count > 1)
            throw new ArgumentException($"--breakdown times one device; training.devices lists {devices.Count} ({string.Join(", ", devices)}). Add --set training.devices=null --set training.device=DEVICE.");
        long nonEmbedding = NonEmbeddingParameters(config.Model.Path);
        output.WriteLine($"benchmark train: {config.Model.Path} ({config.Model.DType}, {nonEmbedding:N0} non-embedding parameters), devices [{string.Join(", ", devices)}], " +
                         $"batch {t.BatchSize}, {config.Data.NegativesPerQuery} negative(s) per row, max_length {config.Model.MaxLength}, micro-batch {(t.MicroBatchSize?.ToString(CultureInfo.InvariantCulture) ?? "off")}, " +
                         $"gradient checkpointing {(config.Model.GradientCheckpointing ? "on" : "off")}, dropout {config.Lora.Dropout}, LoRA in {config.Lora.ComputeDtype}; {steps} steps, the first {warmup} not timed");

        string? gpuUnavailable = "CPU only";
        using var sampler = devices.Any(d => d.StartsWith("cuda", StringComparison.Ordinal)) ? GpuMemorySampler.Start(TimeSpan.FromMilliseconds(20), out gpuUnavailable) : null;
        List<(double Seconds, double Tokens, double Loss)> timed;
        var timer = breakdown ? new StepBreakdown(warmup) : null;
        try
        {
            new TrainingRun(config, new TrainOptions { StepTimer = timer }, output).Run();
            timed = StepTimes(Path.Combine(scratch, MetricsLog.FileName), t.BatchSize);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        var measured = timed.Skip(warmup).ToList();
        double seconds = measured.Sum(s => s.Seconds), tokens = measured.Sum(s => s.Tokens);
        long? peakGpu = sampler?.Peaks().Max();
        return new Result(seconds / measured.Count, tokens / seconds, 4.0 * nonEmbedding * tokens / seconds / 1e12, nonEmbedding,
            peakGpu, sampler is null ? gpuUnavailable : null, ProcessMemory.PeakRss(), [.. timed.Select(s => s.Loss)], timer?.Report());
    }

    /// <summary>The figures as one line for people and one JSON line (the baseline's keys) for tables; then the breakdown, if any.</summary>
    public static void Print(Result r, int steps, int warmup, TextWriter output)
    {
        string gpu = r.PeakGpuBytes is long b ? $"{b / (double)(1L << 30):F2} GiB (NVML: in use on the device, CUDA context and allocator cache included)" : $"n/a ({r.GpuUnavailable})";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"steps {warmup + 1}-{steps}: {r.SecondsPerStep:F4} s/step, {r.RealTokensPerSecond:F0} real tokens/s, {r.MatmulTflops:G4} matmul TFLOP/s " +
            $"(4 x {r.NonEmbeddingParameters:N0} x real tokens); peak GPU memory {gpu}; peak RSS {ProcessMemory.Gib(r.PeakRssBytes)}"));
        output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["benchmark"] = "trainer",
            ["s_per_step"] = r.SecondsPerStep,
            ["real_tokens_per_s"] = r.RealTokensPerSecond,
            ["matmul_tflops"] = r.MatmulTflops,
            ["non_embedding_parameters"] = r.NonEmbeddingParameters,
            ["peak_gpu_gib"] = r.PeakGpuBytes / (double)(1L << 30),
            ["peak_rss_gib"] = r.PeakRssBytes / (double)(1L << 30),
            ["losses"] = r.Losses.Select(l => Math.Round(l, 4)).ToList(),
        }));
        r.Breakdown?.Print(warmup + 1, steps, output);
    }

    /// <summary>Every stored tensor but the token embeddings (and the ignored lm_head), as the baseline counts them.</summary>
    public static long NonEmbeddingParameters(string modelDir)
    {
        var files = WeightFiles.Find(modelDir);
        return files.TensorToFile.Keys
            .Where(name => !PretrainedLoader.IsIgnored(name) && !name.Contains("embed_tokens", StringComparison.Ordinal))
            .Sum(name => files.Entry(name).Shape.Aggregate(1L, (a, d) => a * d));
    }

    /// <summary>Each logged training step's seconds, real tokens and loss, from metrics.jsonl (samples/s = batch / seconds).</summary>
    private static List<(double Seconds, double Tokens, double Loss)> StepTimes(string metricsFile, int batchSize)
    {
        var steps = new List<(double, double, double)>();
        foreach (var line in File.ReadLines(metricsFile))
        {
            using var doc = JsonDocument.Parse(line);
            var m = doc.RootElement;
            if (!m.TryGetProperty("loss", out var loss)) continue; // an evaluation line
            double seconds = batchSize / m.GetProperty("samples_per_s").GetDouble();
            steps.Add((seconds, m.GetProperty("tokens_per_s").GetDouble() * seconds, loss.ValueKind == JsonValueKind.Number ? loss.GetDouble() : double.NaN));
        }
        return steps;
    }
}
