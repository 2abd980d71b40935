using System.Diagnostics;
using Trainer.Models;
using static TorchSharp.torch;

namespace Trainer.Benchmarks;

/// <summary>Peak resident memory of loading a checkpoint, against the model's own bytes in the loaded dtype.</summary>
public static class LoadBenchmark
{
    public static void Run(string modelDir, ScalarType dtype, TextWriter output)
    {
        using (var warm = ones(1)) { } // load libtorch before the baseline reading
        long baseline = ProcessMemory.CurrentRss();
        var clock = Stopwatch.StartNew();
        using var model = PretrainedLoader.Load(modelDir, dtype);
        double seconds = clock.Elapsed.TotalSeconds;
        long modelBytes = model.parameters().Sum(p => p.numel() * p.ElementSize);
        long peak = ProcessMemory.PeakRss();
        output.WriteLine($"model: {modelDir} ({model.Family.Config.NumHiddenLayers} layers, {DTypes.Name(dtype)})");
        output.WriteLine($"model bytes in {DTypes.Name(dtype)}: {ProcessMemory.Gib(modelBytes)}");
        output.WriteLine($"baseline RSS (runtime + libtorch): {ProcessMemory.Gib(baseline)}");
        output.WriteLine($"peak RSS: {ProcessMemory.Gib(peak)} = {peak / (double)modelBytes:F3}x model bytes ({(peak - baseline) / (double)modelBytes:F3}x above baseline)");
        output.WriteLine($"load time: {seconds:F1} s ({modelBytes / seconds / (1 << 20):F0} MiB/s)");
    }
}
