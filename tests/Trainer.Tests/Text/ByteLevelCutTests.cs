using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Trainer.Tests.Export;
using Trainer.Text;
using Trainer.Text.TokenizerJson;

namespace Trainer.Tests.Text;

/// <summary>
/// A tokenizer.json tokenizer encodes a text with a max length chunk by chunk, cut where the ids of the parts are those
/// of the whole (<see cref="TextCuts"/>), and stops reading once the ids are there. For the six tokenizers of
/// <see cref="ByteLevelBpeReference"/> (their ids are Rust's, checked there), the adversarial texts, data texts and long
/// mixtures of both must give, at every max length, exactly the first ids of the whole text, as the eager encoding did,
/// and a cut text's ids must be those of its parts at every cut the tokenizer would take.
/// </summary>
public class ByteLevelCutTests
{
    private static readonly ConcurrentDictionary<string, Lazy<ByteLevelBpeTokenizer>> Loaded = new();

    private static readonly Lazy<List<string>> DataTexts = new(() => InteropTexts.Data().Select(t => t.Value).Distinct().ToList());

    public static TheoryData<string> Tokenizers => [.. ByteLevelBpeReference.Tokenizers];

    private static ByteLevelBpeTokenizer Tokenizer(string name) =>
        Loaded.GetOrAdd(name, n => new Lazy<ByteLevelBpeTokenizer>(() => ByteLevelBpeTokenizer.Load(ByteLevelBpeReference.Folder(n)))).Value;

    private static List<string> Adversarial() => ByteLevelBpeReference.Adversarial().Select(t => t.Value).ToList();

    /// <summary>
    /// Adversarial texts, data texts and the flagged added tokens' texts, strung together at random with and without
    /// separators, so that cuts fall next to special tokens, marks in NFD, whitespace runs and contractions.
    /// </summary>
    private static string Mixture(int length, int seed)
    {
        var random = new Random(seed);
        var adversarial = Adversarial();
        string[] glue = ["", "", " ", "  ", "\n", "\r\n", "\t", "'re ", "'s", ". ", "，", "。", "e\u0301", "1", "_", "[mask]", "XYZ", "cafe\u0301", "<|im_end|>", "<|endoftext|>", "\u3000"];
        var text = new StringBuilder(length + 4096);
        while (text.Length < length)
        {
            var source = random.Next(3) == 0 ? adversarial : DataTexts.Value;
            string piece = source[random.Next(source.Count)];
            if (piece.Length > 600) piece = piece[..(300 + random.Next(300))];
            text.Append(piece).Append(glue[random.Next(glue.Length)]);
        }
        return text.ToString();
    }

    private static IEnumerable<string> Texts(int mixtures, int mixtureLength) =>
        Adversarial().Concat(DataTexts.Value.Where((_, i) => i % 97 == 0)).Concat(Enumerable.Range(0, mixtures).Select(seed => Mixture(mixtureLength, seed)));

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void A_text_cut_at_any_cut_the_tokenizer_takes_gives_the_ids_of_its_parts_one_after_the_other(string name)
    {
        var tokenizer = Tokenizer(name);
        int cuts = 0;
        var mismatches = new List<string>();
        foreach (var text in Texts(mixtures: 24, mixtureLength: 3000))
        {
            var whole = tokenizer.Encode(text);
            var positions = Enumerable.Range(1, Math.Max(0, text.Length - 1)).Where(c => tokenizer.Cuts.IsCut(text, c)).ToList();
            foreach (int c in positions.Where((_, i) => i % Math.Max(1, positions.Count / 120) == 0))
            {
                cuts++;
                int[] parts = [.. tokenizer.Encode(text[..c]), .. tokenizer.Encode(text[c..])];
                if (!parts.AsSpan().SequenceEqual(whole)) mismatches.Add($"\"{Shorten(text[Math.Max(0, c - 20)..c])}|{Shorten(text[c..Math.Min(text.Length, c + 20)])}\"");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cuts} cuts change the ids: {string.Join(", ", mismatches.Take(8))}");
        if (name == "llama3-regex") Assert.Equal(0, cuts); // a pattern other than the three known ones: never cut
        else Assert.True(cuts > 3000, $"only {cuts} cuts were tried");
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Every_max_length_gives_the_first_ids_of_the_whole_text(string name)
    {
        var tokenizer = Tokenizer(name);
        int[] maxLengths = [0, 1, 2, 3, 7, 64, 65, 200, 511, 512, 4096];
        var mismatches = new List<string>();
        foreach (var text in Texts(mixtures: 6, mixtureLength: 60_000))
        {
            var whole = tokenizer.Encode(text);
            foreach (int maxIds in maxLengths)
            {
                var ids = new List<int> { -1 }; // ids already in the row stay and do not count
                tokenizer.Encode(text, ids, maxIds);
                if (ids[0] != -1 || !ids.Skip(1).SequenceEqual(whole.Take(maxIds)))
                    mismatches.Add($"max {maxIds}, \"{Shorten(text)}\" ({text.Length} chars): [{string.Join(",", ids.Skip(1).Take(12))}…] against [{string.Join(",", whole.Take(12))}…]");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n{string.Join("\n", mismatches.Take(8))}");
    }

    /// <summary>
    /// <see cref="EmbeddingTokenizer.Encode"/>'s rows: the post-processor's prefix, the first max_length − (prefix +
    /// suffix) ids of the whole prompt, the suffix; with an instruction the prompt is the template's, as before.
    /// </summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3-template")]
    [InlineData("qwen3-gpt2")]
    public void Embedding_rows_of_long_texts_are_the_whole_texts_first_ids_between_the_special_tokens(string name)
    {
        var embedding = EmbeddingTokenizer.Load(ByteLevelBpeReference.Folder(name));
        var tokenizer = embedding.ByteLevel;
        int special = embedding.PrefixIds.Count + embedding.SuffixIds.Count;
        foreach (var (text, instruction) in new[] { (Mixture(200_000, 7), (string?)null), (Mixture(200_000, 8), "Given a claim, find documents that support it") })
        {
            var whole = tokenizer.Encode(embedding.Template.Format(text, instruction));
            foreach (int maxLength in new[] { Math.Max(2, special), special + 1, special + 2, 16, 512, 8192 })
            {
                int[] expected = [.. embedding.PrefixIds, .. whole.Take(maxLength - special), .. embedding.SuffixIds];
                Assert.Equal(expected, embedding.Encode(text, instruction, maxLength));
            }
        }
    }

    /// <summary>
    /// 40 MB (as UTF-16) of SciFact and adversarial texts: a row of 512 ids reads a few kB of it. Encoding the whole
    /// text would allocate hundreds of MB (its pieces); the cut encoding allocates what a few chunks need.
    /// </summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void A_40_megabyte_text_costs_what_its_first_characters_cost(string name)
    {
        var embedding = EmbeddingTokenizer.Load(ByteLevelBpeReference.Folder(name));
        string start = Mixture(1_000_000, 11);
        string text = string.Concat(Enumerable.Repeat(start, 20));
        embedding.Encode(start[..10_000], null, 512); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ids = embedding.Encode(text, null, 512);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(512, ids.Length);
        Assert.Equal(embedding.Encode(start, null, 512), ids);
        Assert.True(allocated < 1_000_000, $"encoding allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Cuts_fall_between_a_letter_and_what_the_tokenizer_keeps_apart()
    {
        static List<int> Cuts(string name, string text) => Enumerable.Range(1, text.Length - 1).Where(c => Tokenizer(name).Cuts.IsCut(text, c)).ToList();

        Assert.Equal([5, 11, 14], Cuts("qwen3", "hello world, x42 y<z"));      // not before '<', which <|endoftext|> holds
        Assert.Equal([11], Cuts("qwen3-flags", "hello world, x42 y<z"));       // rstrip and single_word tokens: not before a space or digit
        Assert.Equal([5], Cuts("qwen3-gpt2", "hello world, x42 y<z"));         // add_prefix_space: only before a space
        Assert.Empty(Cuts("llama3-regex", "hello world, x42 y<z"));            // a pattern the reader does not know
        Assert.Equal([2, 6], Cuts("qwen3", "中文。日本語\n"));
        Assert.Equal([2, 6], Cuts("qwen3", "안녕 하세요."));
        Assert.Equal([10], Cuts("qwen3", "cafe\u0301 caf\u00e9 x"));         // NFC: never before a mark
        Assert.Equal([1], Cuts("llama3", "e\u0301 x"));                      // no normalizer: a mark after a letter ends its match
    }

    /// <summary>
    /// <see cref="UnicodeNormalizer.IsInert"/> rests on this, in the runtime's Unicode data: every character that a
    /// canonical decomposition puts after its first one (the only characters a composition joins to what precedes them)
    /// is a combining mark or a conjoining Hangul jamo, and no other character has a combining class above 0 (canonical
    /// reordering would move it before U+0345, class 240, the highest).
    /// </summary>
    [Fact]
    public void Only_marks_and_jamo_join_what_precedes_them_when_normalized()
    {
        var others = new List<string>();
        int decomposed = 0, refused = 0;
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            string d;
            try
            {
                d = char.ConvertFromUtf32(cp).Normalize(NormalizationForm.FormD);
            }
            catch (ArgumentException)
            {
                refused++; // noncharacters and other code points ICU will not normalize (never inert: IsInert refuses them too)
                continue;
            }
            var runes = d.EnumerateRunes().ToList();
            if (runes.Count > 1) decomposed++;
            foreach (var r in runes.Skip(1))
            {
                bool mark = Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
                if (!mark && !(r.IsBmp && UnicodeNormalizer.IsConjoiningJamo((char)r.Value))) others.Add($"U+{cp:X4} → U+{r.Value:X4}");
            }
        }
        for (int c = 0; c <= char.MaxValue; c++)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (char.IsSurrogate((char)c) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
            string probe;
            try
            {
                probe = ("\u0345" + (char)c).Normalize(NormalizationForm.FormD);
            }
            catch (ArgumentException)
            {
                continue;
            }
            if (probe[0] != '\u0345') others.Add($"U+{c:X4} reorders");
        }
        Assert.True(decomposed > 2000, $"only {decomposed} characters decompose");
        Assert.True(refused < 0x10000, $"{refused} code points refused");
        Assert.True(others.Count == 0, string.Join(", ", others.Take(12)));
    }

    private static string Shorten(string text) => (text.Length <= 40 ? text : text[..40] + "…").ReplaceLineEndings("⏎");
}
