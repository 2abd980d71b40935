using System.Collections.Concurrent;
using System.Text.Json;
using Trainer.Export;
using Trainer.Tests.Interop;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// Writes a model's Hugging Face tokenizer files (<see cref="TokenizerFiles"/>) at max_length 64 and 8 and runs them
/// under node: @huggingface/tokenizers and transformers.js (no truncation) on every text of
/// <see cref="InteropTexts.All"/>, and transformers.js truncating at each length on
/// <see cref="InteropTexts.TruncationSample"/>. One node process per model, implementation and length, the four side by
/// side; the results are kept per model for the tests of a class.
/// </summary>
public sealed class TokenizerInterop
{
    public const int Length = 64, ShortLength = 8;

    /// <summary>What JavaScript gave for one text; <see cref="KeptEos"/> and <see cref="Decoded"/> only in some modes.</summary>
    public sealed record JsIds(int[] Ids, string? Decoded, int[]? KeptEos);

    public sealed record Run(EmbeddingTokenizer Ours, IReadOnlyList<InteropTexts.Text> Texts, IReadOnlyList<InteropTexts.Text> TruncationTexts,
        IReadOnlyDictionary<string, JsIds> Tokenizers, IReadOnlyDictionary<string, JsIds> Transformers,
        IReadOnlyDictionary<int, IReadOnlyDictionary<string, JsIds>> Truncation);

    private readonly ConcurrentDictionary<string, Lazy<Run>> _runs = new();

    public static string ModelDir(string model) => model switch
    {
        "tiny-mistral" => TestPaths.TinyMistral,
        "stories260k" => TestPaths.Stories260k,
        _ => throw new ArgumentException($"unknown model {model}", nameof(model)),
    };

    public Run For(string model) => _runs.GetOrAdd(model, m => new Lazy<Run>(() => Start(m))).Value;

    private static Run Start(string model)
    {
        string modelPath = Path.Combine(ModelDir(model), EmbeddingTokenizer.ModelFile);
        var root = TestPaths.TempDir("hf-tokenizer-" + model);
        string folder = Path.Combine(root, model), shortFolder = Path.Combine(root, model + "-short");
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(shortFolder);
        TokenizerFiles.Write(folder, modelPath, Length);
        TokenizerFiles.Write(shortFolder, modelPath, ShortLength);

        var texts = InteropTexts.All();
        var sample = InteropTexts.TruncationSample();
        string all = WriteTexts(Path.Combine(root, "texts.jsonl"), texts), some = WriteTexts(Path.Combine(root, "sample.jsonl"), sample);
        var tokenizers = Task.Run(() => Node("tokenizers", folder, all, texts));
        var transformers = Task.Run(() => Node("transformers", folder, all, texts));
        var truncated = Task.Run(() => Node("truncation", folder, some, sample));
        var truncatedShort = Task.Run(() => Node("truncation", shortFolder, some, sample));
        Task.WaitAll(tokenizers, transformers, truncated, truncatedShort);
        return new Run(EmbeddingTokenizer.Load(ModelDir(model)), texts, sample, tokenizers.Result, transformers.Result,
            new Dictionary<int, IReadOnlyDictionary<string, JsIds>> { [Length] = truncated.Result, [ShortLength] = truncatedShort.Result });
    }

    private static string WriteTexts(string path, List<InteropTexts.Text> texts)
    {
        File.WriteAllLines(path, texts.Select(t => JsonSerializer.Serialize(t.Value)));
        return path;
    }

    private static Dictionary<string, JsIds> Node(string mode, string folder, string input, List<InteropTexts.Text> texts)
    {
        string output = Path.Combine(Path.GetDirectoryName(input)!, $"{mode}-{Path.GetFileName(folder)}.jsonl");
        var result = NodeRunner.Run("tokenizer-ids.mjs", TimeSpan.FromMinutes(8), mode, folder, input, output);
        Assert.True(result.ExitCode == 0, $"node tokenizer-ids.mjs {mode} failed ({result.ExitCode}): {result.Stderr}");
        var lines = File.ReadAllLines(output);
        Assert.Equal(texts.Count, lines.Length);
        var byText = new Dictionary<string, JsIds>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var e = doc.RootElement;
            string? decoded = e.TryGetProperty("decoded", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            int[]? keptEos = e.TryGetProperty("kept_eos", out var k) ? Golden.Ints(k) : null;
            byText[texts[i].Value] = new JsIds(Golden.Ints(e.GetProperty("ids")), decoded, keptEos);
        }
        return byText;
    }
}
