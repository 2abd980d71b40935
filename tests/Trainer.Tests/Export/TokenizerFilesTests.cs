using System.Text.Json.Nodes;
using Trainer.Export;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// The exported tokenizer.json, run by real implementations (@huggingface/tokenizers 0.2.0 and transformers.js 4.3.2
/// under node), gives exactly <see cref="EmbeddingTokenizer"/>'s ids for both shipped tokenizers, which differ
/// (tiny-mistral: Mistral's 32000 pieces; stories260k: llama2.c's 512).
/// </summary>
public class TokenizerFilesTests(TokenizerInterop interop) : IClassFixture<TokenizerInterop>
{
    public static TheoryData<string> Models => new() { "tiny-mistral", "stories260k" };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_59_tokenizer_vectors_give_our_ids_in_both_javascript_implementations(string model)
    {
        var vectors = InteropTexts.Vectors();
        Assert.Equal(59, vectors.Count);
        AssertSameIds(interop.For(model), vectors);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_text_in_data_gives_our_ids_in_both_javascript_implementations(string model)
    {
        var texts = InteropTexts.Data().DistinctBy(t => t.Value).ToList();
        Assert.True(texts.Count > 5183 + 1109, $"expected the SciFact corpus, its queries and more; found {texts.Count} distinct texts");
        AssertSameIds(interop.For(model), texts);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Edge_texts_give_our_ids_in_both_javascript_implementations(string model) =>
        AssertSameIds(interop.For(model), InteropTexts.Edges());

    [Fact]
    public void Special_tokens_written_in_a_text_stay_text()
    {
        var run = interop.For("tiny-mistral");
        foreach (var text in new[] { "a </s> b", "<s>" })
        {
            var ids = run.Tokenizers[text].Ids;
            Assert.Equal(run.Ours.Encode(text, null, int.MaxValue), ids);
            Assert.Equal(1, ids.Count(id => id == run.Ours.Bpe.BosId));
            Assert.Equal(1, ids.Count(id => id == run.Ours.EosId));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_decoder_gives_our_text_back(string model)
    {
        var run = interop.For(model);
        int compared = 0;
        foreach (var text in InteropTexts.Vectors().Concat(InteropTexts.Edges()).DistinctBy(t => t.Value))
        {
            var ids = run.Ours.Encode(text.Value, null, int.MaxValue);
            if (ids.Length <= 2) continue; // BOS and EOS only
            Assert.Equal(run.Ours.Bpe.Decode(ids), run.Tokenizers[text.Value].Decoded);
            compared++;
        }
        Assert.True(compared > 50, $"only {compared} texts decoded");
    }

    /// <summary>
    /// transformers.js truncates the ids after BOS and EOS were added, so it cuts EOS off every text longer than the
    /// length, and it reads nothing of tokenizer.json's truncation. Truncating the text alone and adding BOS and EOS
    /// around it gives our ids.
    /// </summary>
    [Theory]
    [InlineData("tiny-mistral", TokenizerInterop.Length)]
    [InlineData("tiny-mistral", TokenizerInterop.ShortLength)]
    [InlineData("stories260k", TokenizerInterop.Length)]
    [InlineData("stories260k", TokenizerInterop.ShortLength)]
    public void Transformers_js_truncation_drops_eos_and_truncating_the_text_alone_keeps_it(string model, int length)
    {
        var run = interop.For(model);
        int longer = 0;
        foreach (var text in run.TruncationTexts)
        {
            var full = run.Ours.Encode(text.Value, null, int.MaxValue);
            var ours = run.Ours.Encode(text.Value, null, length);
            var result = run.Truncation[length][text.Value];
            Assert.Equal(ours, result.KeptEos);
            if (full.Length > length)
            {
                longer++;
                Assert.Equal(full.Take(length), result.Ids);   // the first `length` ids: no EOS
                Assert.NotEqual(run.Ours.EosId, result.Ids[^1]);
            }
            else
            {
                Assert.Equal(full, result.Ids);
            }
        }
        Assert.True(longer > 200, $"only {longer} of {run.TruncationTexts.Count} texts are longer than {length} tokens");
    }

    [Fact]
    public void Config_files_name_the_special_tokens_padding_and_length()
    {
        var dir = TestPaths.TempDir("tokenizer-files");
        TokenizerFiles.Write(dir, Path.Combine(TestPaths.TinyMistral, EmbeddingTokenizer.ModelFile), 64);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, TokenizerFiles.TokenizerConfigFile)))!;
        Assert.Equal("PreTrainedTokenizerFast", (string?)config["tokenizer_class"]);
        Assert.Equal(("<s>", "</s>", "<unk>", "</s>"), ((string?)config["bos_token"], (string?)config["eos_token"], (string?)config["unk_token"], (string?)config["pad_token"]));
        Assert.Equal((true, true, 64, "right"), ((bool)config["add_bos_token"]!, (bool)config["add_eos_token"]!, (int)config["model_max_length"]!, (string?)config["padding_side"]));
        Assert.True((bool)config["split_special_tokens"]!);
        Assert.False((bool)config["clean_up_tokenization_spaces"]!);

        var map = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, TokenizerFiles.SpecialTokensMapFile)))!;
        Assert.Equal("</s>", (string?)map["pad_token"]);

        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, TokenizerFiles.TokenizerJsonFile)))!;
        Assert.Equal(64, (int)tokenizer["truncation"]!["max_length"]!);
        Assert.Equal("Right", (string?)tokenizer["truncation"]!["direction"]);
        Assert.Empty(tokenizer["added_tokens"]!.AsArray());
    }

    [Fact]
    public void A_max_length_below_two_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerFiles.Write(TestPaths.TempDir("tokenizer-files"), Path.Combine(TestPaths.TinyMistral, EmbeddingTokenizer.ModelFile), 1));

    private static void AssertSameIds(TokenizerInterop.Run run, IEnumerable<InteropTexts.Text> texts)
    {
        var mismatches = new List<string>();
        int compared = 0;
        foreach (var text in texts)
        {
            var ours = run.Ours.Encode(text.Value, null, int.MaxValue);
            foreach (var (name, js) in new[] { ("@huggingface/tokenizers", run.Tokenizers), ("transformers.js", run.Transformers) })
            {
                var theirs = js[text.Value].Ids;
                if (!ours.AsSpan().SequenceEqual(theirs))
                    mismatches.Add($"{name} on {text.Source} \"{Shorten(text.Value)}\": ours [{string.Join(",", ours.Take(12))}…] theirs [{string.Join(",", theirs.Take(12))}…]");
            }
            compared++;
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches in {compared} texts:\n{string.Join("\n", mismatches.Take(5))}");
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
