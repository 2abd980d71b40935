using System.Diagnostics;
using Trainer.Inference;
using Trainer.Models;
using static TorchSharp.torch;

namespace Trainer.Benchmarks;

/// <summary>Embedding throughput on random token sequences of a fixed length.</summary>
public static class EmbedBenchmark
{
    public static void Run(string modelDir, ScalarType dtype, int sequences, int length, int batchSize, TextWriter output)
    {
        using var model = PretrainedLoader.Load(modelDir, dtype);
        var random = new Random(0);
        var rows = Enumerable.Range(0, sequences)
            .Select(_ => Enumerable.Range(0, length).Select(i => i == 0 && model.Family.Config.BosTokenId is int bos ? bos : random.Next(3, model.Family.Config.VocabSize)).ToArray())
            .ToList();
        var embedder = new TextEmbedder(model, batchSize);
        embedder.Embed(rows.Take(batchSize).ToList()); // warm-up
        var clock = Stopwatch.StartNew();
        embedder.Embed(rows);
        double seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"model: {modelDir} ({DTypes.Name(dtype)}), threads: {get_num_threads()}");
        output.WriteLine($"{sequences} sequences x {length} tokens, batch {batchSize}: {seconds:F2} s, " +
                         $"{sequences / seconds:F1} sequences/s, {sequences * (double)length / seconds:F0} tokens/s");
    }
}
