using System.Diagnostics;
using System.Text;
using Trainer.Evaluation;
using Trainer.Text;
using Trainer.Text.TokenizerJson;

namespace Trainer.Benchmarks;

/// <summary>
/// Single-threaded encoding speed of a model folder's tokenizer.json (<see cref="ByteLevelBpeTokenizer"/>) over a BEIR
/// corpus (each document as title and text, <see cref="BeirDataset.DocumentText"/>): the first pass on a fresh tokenizer
/// (its piece cache empty, the code not yet compiled by the JIT) and the best of the passes after it, in MB of UTF-8
/// text and tokens per second, by wall time and, because a shared machine's other work stretches wall time, by the
/// process's CPU time. tests/js/bpe-benchmark.mjs measures Hugging Face's Rust tokenizers the same way.
/// <para><see cref="RunLongText"/> times one long text cut at a max length instead, as <c>trainer embed</c> and
/// <c>trainer serve</c> encode a huge document.</para>
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

    /// <summary>
    /// One text of about <paramref name="megabytes"/> MB of UTF-8 (the corpus's documents joined by blank lines, repeated
    /// as needed), encoded as an embedding row of <paramref name="maxLength"/> ids (<see cref="EmbeddingTokenizer.Encode"/>,
    /// a document: no instruction): the first call and the best of the calls after it, then the whole text's ids once
    /// for scale. The row must be the whole text's first ids with the special tokens around them.
    /// </summary>
    public static void RunLongText(string tokenizerDir, string input, double megabytes, int maxLength, int passes, TextWriter output)
    {
        if (passes < 2) throw new ArgumentOutOfRangeException(nameof(passes), passes, "--passes must be at least 2 (one cold, then warm ones).");
        if (!(megabytes > 0)) throw new ArgumentOutOfRangeException(nameof(megabytes), megabytes, "--long-text-mb must be above 0.");
        var texts = BeirDataset.ReadCorpus(input).Select(d => d.Text).ToArray();
        if (texts.Length == 0) throw new InvalidDataException($"{input} holds no documents.");
        var builder = new StringBuilder();
        long bytes = 0;
        for (int i = 0; bytes < megabytes * 1e6; i = (i + 1) % texts.Length)
        {
            if (builder.Length > 0) builder.Append("\n\n");
            builder.Append(texts[i]);
            bytes += Encoding.UTF8.GetByteCount(texts[i]) + 2;
        }
        string text = builder.ToString();

        var tokenizer = EmbeddingTokenizer.Load(tokenizerDir);
        output.WriteLine($"tokenizer: {tokenizerDir} ({tokenizer.VocabSize} ids); text: {text.Length:N0} chars, {Encoding.UTF8.GetByteCount(text) / 1e6:F2} MB of UTF-8 from {input}");
        var clock = Stopwatch.StartNew();
        int[] row = tokenizer.Encode(text, null, maxLength);
        output.WriteLine($"max_length {maxLength}, first call: {clock.Elapsed.TotalMilliseconds:F2} ms ({row.Length} ids)");
        double best = double.MaxValue;
        for (int pass = 1; pass < passes; pass++)
        {
            clock.Restart();
            row = tokenizer.Encode(text, null, maxLength);
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"max_length {maxLength}, warm (best of {passes - 1}): {best:F3} ms");

        clock.Restart();
        int[] whole = tokenizer.ByteLevel.Encode(text);
        output.WriteLine($"whole text, no max length: {clock.Elapsed.TotalMilliseconds:F0} ms ({whole.Length:N0} ids)");
        int kept = row.Length - tokenizer.PrefixIds.Count - tokenizer.SuffixIds.Count;
        if (!row.AsSpan(tokenizer.PrefixIds.Count, kept).SequenceEqual(whole.AsSpan(0, kept)))
            throw new InvalidOperationException("the cut row is not the whole text's first ids");
    }

    private static string Line(string what, double seconds, double cpu, long bytes, long tokens) =>
        $"{what}: {seconds:F3} s, {bytes / 1e6 / seconds:F2} MB/s, {tokens / seconds:N0} tokens/s; CPU {cpu:F3} s, {bytes / 1e6 / cpu:F2} MB/s, {tokens / cpu:N0} tokens/s ({tokens} tokens)";
}
