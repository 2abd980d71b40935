using System.Text;
using System.Text.Json;
using Trainer.Text;

namespace Trainer.Tests.Text;

/// <summary>
/// A long text is encoded from a prefix only (<see cref="SentencePieceBpe.Encode"/> with a bound): the ids must be
/// exactly those of encoding the whole text and cutting the ids, and the cost must not grow with the text.
/// </summary>
public class LongTextTests
{
    private static readonly string MistralModel = Path.Combine(TestPaths.TinyMistral, "tokenizer.model");

    private static readonly Lazy<string> SciFact = new(() => string.Join("\n", File.ReadLines(Path.Combine(TestPaths.RepoRoot, "data", "scifact", "train.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement)
        .Select(r => string.Join(" ", new[] { "query", "positive", "negative" }.Select(c => r.TryGetProperty(c, out var v) ? v.GetString() : "")))));

    /// <summary>Mistral's tokenizer with remove_extra_whitespaces switched on (a second NormalizerSpec merges over the first).</summary>
    private static string CollapsingSpacesModel()
    {
        var path = Path.Combine(TestPaths.TempDir("spm-collapse"), "tokenizer.model");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(MistralModel), 0x1A, 0x02, 0x20, 0x01]); // field 3 { field 4: true }
        return path;
    }

    /// <summary>Random text over an alphabet that mixes mergeable Latin, spaces (runs too), CJK, emoji and newlines.</summary>
    private static string RandomText(int length, int seed, string alphabet)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 2);
        var runes = alphabet.EnumerateRunes().Select(r => r.ToString()).ToArray();
        while (text.Length < length) text.Append(runes[random.Next(runes.Length)]);
        return text.ToString();
    }

    private static void AssertCutMatchesWhole(SentencePieceBpe bpe, string text, string? instruction)
    {
        string prompt = PromptFormat.Format(text, instruction);
        var whole = bpe.Encode(prompt);
        Assert.True(whole.Count > 4096, $"only {whole.Count} ids");
        foreach (int maxIds in new[] { 1, 2, 3, 17, 511, 4096 })
            Assert.Equal(whole.Take(maxIds), bpe.Encode(prompt, addBos: true, maxIds: maxIds));
        Assert.Equal(whole.Take(511).Append(bpe.EosId), new EmbeddingTokenizer(bpe).Encode(text, instruction, maxLength: 512));
    }

    [Fact]
    public void Cut_encoding_of_a_million_character_text_gives_the_ids_of_the_whole_text() =>
        AssertCutMatchesWhole(SentencePieceBpe.Load(MistralModel), SciFact.Value[..1_000_000], "Given a claim, find documents that support it");

    [Theory]
    [InlineData("random", "eeeetttaaoinshrdlu      \u4e2d\u6587\U0001F600\n")]
    [InlineData("latin-only", "etaoinshrdlucmfw")] // pairs that mostly merge: barriers are rare
    [InlineData("ab-run", "")]                      // 60k chars with no barrier, then prose: the window must grow
    public void Cut_encoding_gives_the_ids_of_the_whole_text_for_any_text_and_normalization(string name, string alphabet)
    {
        string text = name == "ab-run" ? string.Concat(Enumerable.Repeat("ab", 30_000)) + " " + SciFact.Value[..100_000] : RandomText(200_000, name.Length, alphabet);
        foreach (var model in new[] { MistralModel, CollapsingSpacesModel() })
            foreach (var instruction in new[] { null, "Find it" })
                AssertCutMatchesWhole(SentencePieceBpe.Load(model), text, instruction);
    }

    /// <summary>
    /// A vocabulary where cutting anywhere changes the first ids: over a chain of distinct characters c0 c1 c2 …,
    /// the pair c(i)c(i+1) is a piece scoring i, so the rightmost pair merges first and each merge blocks the one on
    /// its left; whether c0 pairs with c1 depends on the chain's length. A cut at max_length × longest piece (or any
    /// bound in characters) would get the first ids wrong; the encoder must find no barrier and read the whole chain.
    /// </summary>
    [Fact]
    public void A_cut_inside_a_merge_cascade_is_never_taken()
    {
        const int Normal = 1, Unknown = 2, Control = 3;
        var chain = Enumerable.Range(0, 3000).Select(i => (char)('\u4e00' + i)).ToArray();
        var pieces = new List<(string, float, int)> { ("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control), ("\u2581", 0, Normal) };
        pieces.AddRange(chain.Select(c => (c.ToString(), 0f, Normal)));
        pieces.AddRange(chain.Skip(1).Select((c, i) => ($"{chain[i]}{c}", (float)i, Normal)));
        var bpe = SentencePieceBpe.Load(SentencePieceModelTests.WriteModel([.. pieces]));

        foreach (int length in new[] { 2999, 3000 })
        {
            string text = new(chain[..length]);
            var whole = bpe.Encode(text);
            Assert.Equal(2 + (length + 1) / 2, whole.Count); // BOS, ▁, then pairs from the right (c0 alone when odd)
            for (int maxIds = 1; maxIds < 40; maxIds++)
                Assert.Equal(whole.Take(maxIds), bpe.Encode(text, addBos: true, maxIds: maxIds));
        }
    }

    [Fact]
    public void A_40_megabyte_text_costs_what_its_first_characters_cost()
    {
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        string text = string.Concat(Enumerable.Repeat(SciFact.Value[..1_000_000], 20)); // 20 M chars, 40 MB as UTF-16
        tokenizer.Encode(text[..10_000], null, 512); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ids = tokenizer.Encode(text, null, 512);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(512, ids.Length);
        Assert.Equal(tokenizer.Encode(SciFact.Value[..1_000_000], null, 512), ids);
        Assert.True(allocated < 4_000_000, $"encoding allocated {allocated:N0} bytes"); // the whole text would take gigabytes
    }
}
