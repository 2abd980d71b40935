using System.Text.RegularExpressions;
using Trainer.Tests.Export;
using Trainer.Text;
using Trainer.Text.TokenizerJson;

namespace Trainer.Tests.Text;

/// <summary>
/// <see cref="ByteLevelBpeTokenizer"/> on the real Qwen3 and Llama 3 tokenizer.json (and two variants) gives Hugging
/// Face's Rust tokenizers' ids for every text in data/ (the 5,183 SciFact documents among them) and the adversarial
/// texts, without and with special tokens; the JavaScript port is held to the same ids where it agrees with Rust.
/// </summary>
public class ByteLevelBpeTests(ByteLevelBpeReference reference) : IClassFixture<ByteLevelBpeReference>
{
    public static TheoryData<string> Tokenizers => [.. ByteLevelBpeReference.Tokenizers];

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Every_SciFact_document_gives_the_rust_ids(string tokenizer)
    {
        var run = reference.For(tokenizer);
        var corpus = run.Texts.Where(t => t.Source.EndsWith(Path.Combine("scifact", "corpus.jsonl"), StringComparison.Ordinal)).ToList();
        Assert.Equal(5183, corpus.Count);
        AssertRustIds(run, corpus);
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Every_text_in_data_gives_the_rust_ids(string tokenizer)
    {
        var run = reference.For(tokenizer);
        var data = run.Texts.Where(t => t.Source != "adversarial").ToList();
        Assert.Equal(InteropTexts.Data().DistinctBy(t => t.Value).Count(t => !ByteLevelBpeReference.Adversarial().Any(a => a.Value == t.Value)), data.Count);
        Assert.True(data.Count > 5183 + 1109, $"expected the SciFact corpus, its queries and more; found {data.Count} distinct texts");
        AssertRustIds(run, data);
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Adversarial_texts_give_the_rust_ids(string tokenizer)
    {
        var run = reference.For(tokenizer);
        AssertRustIds(run, run.Texts.Where(t => t.Source == "adversarial").ToList());
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void The_javascript_port_agrees_with_rust_on_every_text_in_data(string tokenizer)
    {
        var run = reference.For(tokenizer);
        var differ = run.Texts.Where(t => t.Source != "adversarial" && !run.Js[t.Value].Plain.AsSpan().SequenceEqual(run.Rust[t.Value].Plain)).ToList();
        Assert.True(differ.Count == 0, $"{differ.Count} texts differ between the two references, first: {differ.FirstOrDefault()?.Value}");
    }

    [Fact]
    public void Letters_outside_the_bmp_stay_in_their_word()
    {
        // .NET's \p{L} would leave 𠀀 out of " 𠀀abc"; the scanner reads it as a letter, so the space starts the word
        var matches = new List<(int Start, int End)>();
        GptSplitScanner.For(GptSplitScanner.QwenPattern)!.Matches(" 𠀀abc 𝒜1", matches);
        Assert.Equal([(0, 6), (6, 9), (9, 10)], matches);
    }

    [Fact]
    public void Net_regex_alone_splits_a_letter_outside_the_bmp_from_its_word_and_the_stand_ins_do_not()
    {
        var regex = new Regex(GptSplitScanner.QwenPattern);
        Assert.Equal([(0, 3), (3, 6)], regex.Matches(" 𠀀abc").Select(m => (m.Index, m.Index + m.Length)));  // " 𠀀" as punctuation, then "abc"
        var matches = new List<(int Start, int End)>();
        new CodePointRegex(regex).Matches(" 𠀀abc", matches);
        Assert.Equal([(0, 6)], matches);
    }

    [Fact]
    public void Qwen_splits_single_digits_and_llama3_groups_three()
    {
        var qwen = new List<(int Start, int End)>();
        var llama = new List<(int Start, int End)>();
        GptSplitScanner.For(GptSplitScanner.QwenPattern)!.Matches("12345", qwen);
        GptSplitScanner.For(GptSplitScanner.Llama3Pattern)!.Matches("12345", llama);
        Assert.Equal(5, qwen.Count);
        Assert.Equal([(0, 3), (3, 5)], llama);
    }

    [Fact]
    public void Special_tokens_and_the_pool_token_come_from_the_files()
    {
        var qwen = reference.For("qwen3").Ours;
        Assert.Null(qwen.BosId);
        Assert.Equal(151645, qwen.EosId);                       // <|im_end|>, tokenizer_config.json's eos_token
        Assert.Equal([151643], qwen.Encode("<|endoftext|>"));   // a special token's text is that token
        Assert.Empty(qwen.Template.Prefix);

        var llama = reference.For("llama3-template").Ours;
        Assert.Equal((128000, 128001), (llama.BosId, llama.EosId));
        Assert.Equal([128000], llama.Template.Prefix);
        Assert.Equal(128000, llama.EncodeWithSpecialTokens("hi")[0]);
    }

    /// <summary>
    /// A folder with tokenizer.json and no tokenizer.model gives embedding rows of the post-processor's prefix, the Rust
    /// ids and the pool token: &lt;|endoftext|&gt; 151643 for Qwen3, whose post-processor appends nothing and whose
    /// eos_token is the chat token &lt;|im_end|&gt; 151645; tokenizer_config.json's eos_token for Llama 3
    /// (&lt;|end_of_text|&gt; 128001), which has no &lt;|endoftext|&gt;. The text's ids are cut so that the row fits max_length.
    /// </summary>
    [Theory]
    [InlineData("qwen3", 151643)]
    [InlineData("llama3-template", 128001)]
    public void Embedding_rows_are_the_rust_ids_with_special_tokens_then_the_pool_token(string tokenizer, int eos)
    {
        var run = reference.For(tokenizer);
        var embedding = EmbeddingTokenizer.Load(run.Folder);
        Assert.False(embedding.IsSentencePiece);
        Assert.Equal(eos, embedding.EosId);
        int cut = 0;
        foreach (var text in run.Texts.Where((t, i) => t.Source == "adversarial" || i % 20 == 0))
        {
            var rust = run.Rust[text.Value];
            int prefix = rust.Special.Length - rust.Plain.Length;
            Assert.Equal([.. rust.Special, eos], embedding.Encode(text.Value, null, int.MaxValue));
            const int Length = 16;
            var expected = rust.Special.Take(Math.Min(rust.Special.Length, Length - 1)).Append(eos).ToArray();
            Assert.Equal(expected, embedding.Encode(text.Value, null, Length));
            if (rust.Plain.Length > Length - 1 - prefix) cut++;
        }
        Assert.True(cut > 100, $"only {cut} texts were long enough to be cut");
    }

    private static void AssertRustIds(ByteLevelBpeReference.Run run, List<InteropTexts.Text> texts)
    {
        var mismatches = new List<string>();
        foreach (var text in texts)
        {
            var rust = run.Rust[text.Value];
            var ours = run.Ours.Encode(text.Value);
            if (!ours.AsSpan().SequenceEqual(rust.Plain))
                mismatches.Add($"{text.Source} \"{Shorten(text.Value)}\": ours [{string.Join(",", ours.Take(16))}] rust [{string.Join(",", rust.Plain.Take(16))}]");
            else if (!run.Ours.EncodeWithSpecialTokens(text.Value).AsSpan().SequenceEqual(rust.Special))
                mismatches.Add($"{text.Source} \"{Shorten(text.Value)}\" with special tokens: rust [{string.Join(",", rust.Special.Take(16))}]");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches in {texts.Count} texts:\n{string.Join("\n", mismatches.Take(8))}");
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
