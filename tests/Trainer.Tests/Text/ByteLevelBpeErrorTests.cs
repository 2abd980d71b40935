using System.Text.Json.Nodes;
using Trainer.Text.TokenizerJson;

namespace Trainer.Tests.Text;

/// <summary>
/// What <see cref="ByteLevelBpeTokenizer.Load"/> refuses names the file and the key to fix, on a small byte-level
/// tokenizer.json written here (the 256 byte characters, "ab" and one merge) with one thing changed at a time.
/// </summary>
public class ByteLevelBpeErrorTests
{
    [Fact]
    public void The_small_tokenizer_loads_and_merges()
    {
        var tokenizer = ByteLevelBpeTokenizer.Load(Write(_ => { }));
        Assert.Equal([256, (int)'c'], tokenizer.Encode("abc")); // "c" is byte 0x63, whose character has id 0x63 here
        Assert.Equal(257, tokenizer.EosId);
    }

    [Fact]
    public void An_eos_token_that_is_no_token_is_refused_not_mapped_to_id_0()
    {
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(Write(_ => { }, config => config["eos_token"] = "</s>")));
        Assert.Contains("tokenizer_config.json: eos_token names '</s>'", e.Message);
    }

    [Fact]
    public void A_merge_of_an_unknown_token_names_the_merge()
    {
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(Write(json => json["model"]!["merges"]!.AsArray().Add(new JsonArray("ab", "zz")))));
        Assert.Contains("tokenizer.json: model.merges[1] names 'zz'", e.Message);
    }

    [Fact]
    public void A_normalizer_we_do_not_implement_is_refused()
    {
        var e = Assert.Throws<NotSupportedException>(() => ByteLevelBpeTokenizer.Load(Write(json => json["normalizer"] = new JsonObject { ["type"] = "Lowercase" })));
        Assert.Contains("tokenizer.json: normalizer.type is 'Lowercase'", e.Message);
    }

    [Fact]
    public void No_pre_tokenizer_is_refused()
    {
        var e = Assert.Throws<NotSupportedException>(() => ByteLevelBpeTokenizer.Load(Write(json => json["pre_tokenizer"] = null)));
        Assert.Contains("tokenizer.json: pre_tokenizer is null", e.Message);
    }

    [Fact]
    public void An_added_token_id_the_library_would_not_give_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(Write(json => json["added_tokens"]![0]!["id"] = 300)));
        Assert.Contains("tokenizer.json: added_tokens[0].id is 300", e.Message);
    }

    [Fact]
    public void A_vocabulary_without_every_byte_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(Write(json => json["model"]!["vocab"]!.AsObject().Remove("Ġ"))));
        Assert.Contains("tokenizer.json: model.vocab has no entry for byte 0x20", e.Message);
    }

    private static string Write(Action<JsonObject> change, Action<JsonObject>? changeConfig = null)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Char((byte)b).ToString()] = b;
        vocab["ab"] = 256;
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 257,
                ["content"] = "<eos>",
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = false,
                ["normalized"] = false,
                ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(new JsonArray("a", "b")),
            },
        };
        change(json);
        var config = new JsonObject { ["eos_token"] = "<eos>", ["bos_token"] = null };
        changeConfig?.Invoke(config);
        var dir = TestPaths.TempDir("bpe-errors");
        File.WriteAllText(Path.Combine(dir, ByteLevelBpeTokenizer.TokenizerFile), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, ByteLevelBpeTokenizer.ConfigFile), config.ToJsonString());
        return dir;
    }
}
