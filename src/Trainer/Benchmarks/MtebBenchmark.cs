using System.Diagnostics;
using System.Globalization;
using Trainer.Evaluation;
using Trainer.Evaluation.Mteb;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Benchmarks;

/// <summary>
/// <c>trainer benchmark mteb</c>: the speed of each MTEB task type. With a model: each task of a folder (the README's
/// small sets, <c>data/mteb</c>) evaluated as <c>trainer eval --task</c> does, the time split into embedding and
/// scoring. Without: scoring alone on random unit vectors of width <c>--dim</c> at MTEB-like sizes, which is what the
/// evaluators themselves cost (logistic regression, k-means, thresholds) whatever the model.
/// </summary>
public static class MtebBenchmark
{
    /// <summary>An encoder that times another and counts its texts.</summary>
    private sealed class Timed(ITextEncoder inner) : ITextEncoder
    {
        public Stopwatch Clock { get; } = new();
        public int Texts { get; private set; }

        public float[][] Encode(IReadOnlyList<string> texts, string? instruction, bool normalize)
        {
            Clock.Start();
            try
            {
                Texts += texts.Count;
                return inner.Encode(texts, instruction, normalize);
            }
            finally
            {
                Clock.Stop();
            }
        }
    }

    /// <summary>Random vectors: each text gets one drawn from a generator seeded by the text's ordinal hash, so repeats agree.</summary>
    private sealed class RandomVectors(int dim) : ITextEncoder
    {
        public float[][] Encode(IReadOnlyList<string> texts, string? instruction, bool normalize) => texts.Select(t =>
        {
            var random = new Random(StringComparer.Ordinal.GetHashCode(t));
            var v = new float[dim];
            double norm = 0;
            for (int i = 0; i < dim; i++) { v[i] = (float)(random.NextDouble() - 0.5); norm += v[i] * v[i]; }
            if (normalize) for (int i = 0; i < dim; i++) v[i] = (float)(v[i] / Math.Sqrt(norm));
            return v;
        }).ToArray();
    }

    /// <summary>Each (task name, folder, split) evaluated with the model; prints one line per task.</summary>
    public static void RunModel(EmbeddingDecoder model, EmbeddingTokenizer tokenizer, IReadOnlyList<(string Task, string Type, string Folder, string Split)> tasks,
        int maxLength, int batchSize, TextWriter output)
    {
        output.WriteLine($"{"type",-20} {"task",-22} {"texts",7} {"embed s",8} {"score s",8} {"total s",8} {"texts/s",8} {"main",7}");
        foreach (var (name, type, folder, split) in tasks)
        {
            var task = MtebTask.Resolve(name, MtebTaskTypes.Parse(type, "type"), "");
            var data = MtebTaskData.Load(task, folder, split, new MtebOptions());
            var encoder = new Timed(new ModelTextEncoder(model, tokenizer, maxLength, batchSize));
            var total = Stopwatch.StartNew();
            double retrievalEmbed = 0;
            int retrievalTexts = 0;
            var result = MtebEvaluator.Evaluate(data, encoder, new MtebOptions(), beir =>
            {
                var r = RetrievalEvaluator.Evaluate(model, tokenizer, beir, task.RetrievalOptions(maxLength, batchSize, 100, null));
                (retrievalEmbed, retrievalTexts) = (r.DocumentSeconds, r.Documents + beir.Queries.Count);
                return r.Report.Mean;
            });
            double seconds = total.Elapsed.TotalSeconds, embed = encoder.Clock.Elapsed.TotalSeconds + retrievalEmbed;
            int texts = encoder.Texts + retrievalTexts;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{MtebTaskTypes.Name(task.Type),-20} {name,-22} {texts,7} {embed,8:F2} {seconds - embed,8:F2} {seconds,8:F2} {texts / Math.Max(embed, 1e-9),8:F0} {result.MainScore(split),7:F4}"));
        }
    }

    /// <summary>Scoring alone on random vectors at MTEB-like sizes; prints one line per type.</summary>
    public static void RunScoring(int dim, TextWriter output)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"trainer-mteb-bench-{Environment.ProcessId}");
        try
        {
            output.WriteLine($"scoring only, random unit vectors of width {dim}");
            output.WriteLine($"{"type",-20} {"size",-44} {"score s",8}");
            foreach (var (type, size, write) in Sets())
            {
                var dir = Path.Combine(folder, type);
                Directory.CreateDirectory(dir);
                write(dir);
                var task = MtebTask.Resolve("Bench" + type, MtebTaskTypes.Parse(type, "type"), "");
                var data = MtebTaskData.Load(task, dir, "test", new MtebOptions());
                var clock = Stopwatch.StartNew();
                MtebEvaluator.Evaluate(data, new RandomVectors(dim), new MtebOptions());
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type,-20} {size,-44} {clock.Elapsed.TotalSeconds,8:F2}"));
            }
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static IEnumerable<(string Type, string Size, Action<string> Write)> Sets()
    {
        static void Lines(string dir, string split, IEnumerable<object> rows) =>
            File.WriteAllLines(Path.Combine(dir, split + ".jsonl"), rows.Select(r => System.Text.Json.JsonSerializer.Serialize(r)));
        yield return ("STS", "1,379 pairs (STSBenchmark test)", d => Lines(d, "test", Enumerable.Range(0, 1379).Select(i => new { sentence1 = $"a{i}", sentence2 = $"b{i}", score = i % 6 })));
        yield return ("PairClassification", "10,000 pairs", d => Lines(d, "test", Enumerable.Range(0, 10000).Select(i => new { sentence1 = $"a{i}", sentence2 = $"b{i}", labels = i % 2 })));
        yield return ("Reranking", "500 queries x 20 candidates", d => Lines(d, "test", Enumerable.Range(0, 500).Select(i => new
        { query = $"q{i}", positive = Enumerable.Range(0, 2).Select(j => $"p{i} {j}").ToArray(), negative = Enumerable.Range(0, 18).Select(j => $"n{i} {j}").ToArray() })));
        yield return ("Classification", "77 labels x 8 train, 3,080 test, 10 experiments", d =>
        {
            Lines(d, "train", Enumerable.Range(0, 77 * 20).Select(i => new { text = $"train {i}", label = i % 77 }));
            Lines(d, "test", Enumerable.Range(0, 3080).Select(i => new { text = $"test {i}", label = i % 77 }));
        }
        );
        yield return ("Clustering", "1 set of 2,000 texts, 20 labels", d => Lines(d, "test", [new
        { sentences = Enumerable.Range(0, 2000).Select(i => $"s{i}").ToArray(), labels = Enumerable.Range(0, 2000).Select(i => i % 20).ToArray() }]));
        yield return ("Summarization", "100 texts x (11 human, 16 machine) (SummEval)", d => Lines(d, "test", Enumerable.Range(0, 100).Select(i => new
        { text = $"t{i}", human_summaries = Enumerable.Range(0, 11).Select(j => $"h{i} {j}").ToArray(), machine_summaries = Enumerable.Range(0, 16).Select(j => $"m{i} {j}").ToArray(), relevance = Enumerable.Range(0, 16).Select(j => (double)(j % 5)).ToArray() })));
        yield return ("BitextMining", "1,000 pairs (a Tatoeba pair)", d => Lines(d, "test", Enumerable.Range(0, 1000).Select(i => new { sentence1 = $"a{i}", sentence2 = $"b{i}" })));
    }
}
