using System.Text.Json;
using Trainer.Data;
using Trainer.Evaluation;
using Trainer.Inference;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// The texts the tokenizer interop tests encode, each as the string the model's tokenizer receives (instruction
/// already formatted in), with where it came from. Repeated strings are kept once.
/// </summary>
public static class InteropTexts
{
    public sealed record Text(string Source, string Value);

    /// <summary>The 59 tokenizer vectors (12 from mistral-tokenizer-js, 47 from SentencePiece).</summary>
    public static List<Text> Vectors()
    {
        var texts = new List<Text>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizer", "mistral-tokenizer-js.testcases.json"))))
        {
            int i = 0;
            foreach (var c in doc.RootElement.EnumerateArray()) texts.Add(new Text($"mistral-tokenizer-js case {i++}", c.GetProperty("text").GetString()!));
        }
        using (var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizer", "mistral-spm.generated-vectors.json"))))
        {
            int i = 0;
            foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) texts.Add(new Text($"sentencepiece case {i++}", c.GetProperty("text").GetString()!));
        }
        return texts;
    }

    /// <summary>Texts that probe what the tokenizer.json settings have to get right.</summary>
    public static List<Text> Edges() =>
    [
        new("edge", "a </s> b"),                     // special tokens written in a text are text
        new("edge", "<s>"),
        new("edge", "<unk> and <0x41>"),
        new("edge", "\u2581already escaped"),        // a literal ▁ at the start still gets the dummy prefix
        new("edge", "x" + new string(' ', 40) + "y"), // long space runs: many equal-score merges
        new("edge", new string(' ', 31)),
        new("edge", "!!!!!! ...... ------"),
        new("edge", "tab\tnew\nline\r\nend "),
        new("edge", "emoji 🦙 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"),
    ];

    /// <summary>
    /// Every text in data/ as trainer embeds it: data/examples/texts.jsonl; the SciFact queries
    /// alone and with each of two e5 instructions; the corpus as title and text (<see cref="BeirDataset.DocumentText"/>);
    /// the queries, positives and negatives of the training files.
    /// </summary>
    public static List<Text> Data()
    {
        string data = Path.Combine(TestPaths.RepoRoot, "data"), scifact = Path.Combine(data, "scifact");
        var texts = new List<Text>();
        // the e5 instructions for web search and SciFact, which users put before queries (the examples mark queries
        // with "query": true, so that the quickstart's model sees them as it was trained: without one)
        var instructions = new List<string>
        {
            "Given a web search query, retrieve relevant passages that answer the query",
            "Given a scientific claim, retrieve documents that support or refute the claim",
        };
        string examples = Path.Combine(data, "examples", "texts.jsonl");
        foreach (var input in EmbedInput.Read(examples, vocabSize: int.MaxValue))
        {
            texts.Add(new Text(examples, PromptFormat.Format(input.Text!, input.Instruction)));
            if (!string.IsNullOrEmpty(input.Instruction) && !instructions.Contains(input.Instruction)) instructions.Add(input.Instruction);
        }

        string queries = Path.Combine(scifact, "queries.jsonl");
        foreach (var line in File.ReadLines(queries))
        {
            using var doc = JsonDocument.Parse(line);
            string query = doc.RootElement.GetProperty("text").GetString()!;
            texts.Add(new Text(queries, query));
            foreach (var instruction in instructions) texts.Add(new Text(queries, PromptFormat.Format(query, instruction)));
        }

        string corpus = Path.Combine(scifact, "corpus.jsonl");
        texts.AddRange(BeirDataset.ReadCorpus(corpus).Select(d => new Text(corpus, d.Text)));

        foreach (var file in new[] { "train.jsonl", "train.mined.jsonl" }.Select(f => Path.Combine(scifact, f)))
        {
            foreach (var example in TrainingDataReader.Read([file], defaultInstruction: null, skipInvalid: false).Examples)
            {
                texts.Add(new Text(file, PromptFormat.Format(example.Query, example.Instruction)));
                texts.AddRange(example.Positives.Concat(example.Negatives).Select(t => new Text(file, t)));
            }
        }
        return texts;
    }

    /// <summary>The vectors, the edge texts and the data texts, each string once (first source kept).</summary>
    public static List<Text> All() => Distinct(Vectors().Concat(Edges()).Concat(Data()));

    /// <summary>
    /// The texts the truncation tests use (transformers.js encodes a text whole before it truncates, so truncating every
    /// text would take minutes): the vectors, the edge texts and every 25th data text, which spans all the files.
    /// </summary>
    public static List<Text> TruncationSample() => Distinct(Vectors().Concat(Edges()).Concat(Distinct(Data()).Where((_, i) => i % 25 == 0)));

    private static List<Text> Distinct(IEnumerable<Text> texts)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return texts.Where(t => seen.Add(t.Value)).ToList();
    }
}
