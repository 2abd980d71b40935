using System.Diagnostics;
using System.Text;
using Trainer.Evaluation;
using Trainer.Text.TokenizerJson;

namespace Trainer.Benchmarks;

/// <summary>
/// Single-threaded encoding speed of a model folder's tokenizer.json (<see cref="ByteLevelBpeTokenizer"/>) over a BEIR
/// corpus (each document as title and text, <see cref="BeirDataset.DocumentText"/>): the first pass on a fresh tokenizer
/// (its piece cache empty, the code not yet compiled by the JIT) and the best of the passes after it, in MB of UTF-8
/// text and tokens per second, by wall time and, because a shared machine's other work stretches wall time, by the
/// process's CPU time. tests/js/bpe-benchmark.mjs measures Hugging Face's Rust tokenizers the same way.
/// </summary>
public static class TokenizeBenchmark
{
    public static void Run(string tokenizerDir, string input, int passes, TextWriter output)
    {
        if (passes < 2) throw new ArgumentOutOfRangeException(nameof(passes), passes, "--passes must be at least 2 (one cold, then warm ones).");
        var texts = BeirDataset.ReadCorpus(input).Select(d => d.Text).ToArray();
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));

        var clock = Stopwatch.StartNew();
        var tokenizer = ByteLevelBpeTokenizer.Load(tokenizerDir);
        double load = clock.Elapsed.TotalSeconds;
        output.WriteLine($"tokenizer: {tokenizerDir} ({tokenizer.VocabSize} ids), loaded in {load:F2} s");
        output.WriteLine($"input: {input}: {texts.Length} texts, {bytes / 1e6:F2} MB of UTF-8");

        double best = double.MaxValue, bestCpu = double.MaxValue;
        long tokens = 0;
        using var process = Process.GetCurrentProcess();
        for (int pass = 0; pass < passes; pass++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            clock.Restart();
            long count = 0;
            var ids = new List<int>();
            foreach (var text in texts)
            {
                ids.Clear();
                tokenizer.Encode(text, ids);
                count += ids.Count;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
            tokens = count;
            if (pass == 0) output.WriteLine(Line("cold pass", seconds, cpu, bytes, count));
            else (best, bestCpu) = (Math.Min(best, seconds), Math.Min(bestCpu, cpu));
        }
        output.WriteLine(Line($"warm (best of {passes - 1})", best, bestCpu, bytes, tokens));
    }

    private static string Line(string what, double seconds, double cpu, long bytes, long tokens) =>
        $"{what}: {seconds:F3} s, {bytes / 1e6 / seconds:F2} MB/s, {tokens / seconds:N0} tokens/s; CPU {cpu:F3} s, {bytes / 1e6 / cpu:F2} MB/s, {tokens / cpu:N0} tokens/s ({tokens} tokens)";
}
