using System.Text.Json;
using Trainer.Export;
using Trainer.Tests.Interop;
using Trainer.Text;

namespace Trainer.Tests.Text;

public class HfTokenizerJsonTests
{
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5;

    [Fact]
    public void Merges_follow_the_score_of_the_piece_they_make()
    {
        var model = HfTokenizerJson.ReadModel(Path.Combine(TestPaths.TinyMistral, EmbeddingTokenizer.ModelFile));
        var merges = HfTokenizerJson.Merges(model);
        var ids = Enumerable.Range(0, model.Pieces.Count).ToDictionary(i => model.Pieces[i].Text, i => i);
        Assert.Equal(("\u2581", "t"), merges[0]); // ▁t, the best-scoring piece
        float previous = float.PositiveInfinity;
        foreach (var (left, right) in merges)
        {
            var piece = model.Pieces[ids[left + right]];
            Assert.Equal(SentencePieceModel.PieceType.Normal, piece.Type);
            Assert.True(piece.Score <= previous, $"{left}+{right} ({piece.Score}) after a merge scoring {previous}");
            previous = piece.Score;
        }
        // every piece longer than one code point can be made, and the runs of ▁ come last (score -1e9)
        Assert.Equal(model.Pieces.Count(p => p.Type == SentencePieceModel.PieceType.Normal && p.Text.EnumerateRunes().Count() > 1),
            merges.Select(m => m.Left + m.Right).Distinct().Count());
        Assert.Equal(("\u2581", "\u2581"), merges.First(m => model.Pieces[ids[m.Left + m.Right]].Score == -1e9f));
    }

    [Fact]
    public void Tokenizer_json_holds_the_whole_vocabulary_in_id_order_and_the_template()
    {
        var model = HfTokenizerJson.ReadModel(Path.Combine(TestPaths.Stories260k, EmbeddingTokenizer.ModelFile));
        var json = HfTokenizerJson.Build(model, "stories260k", maxLength: null);
        var vocab = json["model"]!["vocab"]!.AsObject();
        Assert.Equal(512, vocab.Count);
        Assert.Equal(Enumerable.Range(0, 512), vocab.Select(p => (int)p.Value!));
        Assert.Equal(("<unk>", true), ((string?)json["model"]!["unk_token"], (bool)json["model"]!["byte_fallback"]!));
        Assert.Null(json["truncation"]);
        Assert.Equal(["<s>", "A", "</s>"], json["post_processor"]!["single"]!.AsArray()
            .Select(item => (string)(item!["SpecialToken"] ?? item["Sequence"])!["id"]!));
    }

    /// <summary>
    /// The one SentencePiece behaviour the format cannot express: ties between equal-score merges of different pairs go
    /// to the leftmost pair, while the tokenizers library ranks pairs. With ab, bc and ca all scoring alike, SentencePiece
    /// gives ab·c, bc·a and ca·b; no order of the three merges does all three (each would have to come before the next),
    /// and the library, whichever order, misses one. Neither shipped tokenizer has such a tie that text can reach (their
    /// only equal scores are Mistral's runs of ▁, which match on every data text and long space runs).
    /// </summary>
    [Fact]
    public void Equal_score_merges_of_different_pairs_are_ranked_not_positional()
    {
        var path = SentencePieceModelTests.WriteModel(("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control),
            ("\u2581", -1, Normal), ("a", -2, Normal), ("b", -3, Normal), ("c", -4, Normal), ("ab", -5, Normal), ("bc", -5, Normal), ("ca", -5, Normal));
        var ours = new EmbeddingTokenizer(SentencePieceBpe.Load(path));
        Assert.Equal([1, 3, 7, 6, 2], ours.Encode("abc", null, 16)); // ▁ ab c
        Assert.Equal([1, 3, 8, 4, 2], ours.Encode("bca", null, 16)); // ▁ bc a
        Assert.Equal([1, 3, 9, 5, 2], ours.Encode("cab", null, 16)); // ▁ ca b

        var js = JsIds(path, "abc", "bca", "cab");
        Assert.Equal([1, 3, 7, 6, 2], js[0]);
        Assert.Equal([1, 3, 8, 4, 2], js[1]);
        Assert.Equal([1, 3, 6, 7, 2], js[2]); // ▁ c ab: ab ranks first
    }

    [Fact]
    public void Unused_and_user_defined_pieces_are_refused_naming_the_file()
    {
        var unused = SentencePieceModelTests.WriteModel(("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control),
            ("\u2581", -1, Normal), ("a", -2, Normal), ("b", -3, Normal), ("ab", 0, Unused));
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizerJson.Build(HfTokenizerJson.ReadModel(unused), unused, 8));
        Assert.Contains(unused, e.Message);
        Assert.Contains("unused", e.Message);

        var userDefined = SentencePieceModelTests.WriteModel(("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control),
            ("\u2581", -1, Normal), ("a", -2, Normal), ("<tag>", 0, UserDefined));
        e = Assert.Throws<NotSupportedException>(() => TokenizerFiles.Write(TestPaths.TempDir("tokenizer-files"), userDefined, 8));
        Assert.Contains("user-defined", e.Message);
    }

    [Fact]
    public void A_piece_with_a_character_that_is_no_piece_is_refused()
    {
        var path = SentencePieceModelTests.WriteModel(("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control),
            ("\u2581", -1, Normal), ("a", -2, Normal), ("az", -3, Normal));
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizerJson.Build(HfTokenizerJson.ReadModel(path), path, null));
        Assert.Contains("'z'", e.Message);
    }

    private static List<int[]> JsIds(string tokenizerModel, params string[] texts)
    {
        var dir = TestPaths.TempDir("hf-tokenizer-synthetic");
        var folder = Path.Combine(dir, "tokenizer");
        Directory.CreateDirectory(folder);
        TokenizerFiles.Write(folder, tokenizerModel, 16);
        string input = Path.Combine(dir, "texts.jsonl"), output = Path.Combine(dir, "ids.jsonl");
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(t)));
        var result = NodeRunner.Run("tokenizer-ids.mjs", "tokenizers", folder, input, output);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var ids = new List<int[]>();
        foreach (var line in File.ReadAllLines(output))
        {
            using var doc = JsonDocument.Parse(line);
            ids.Add(Golden.Ints(doc.RootElement.GetProperty("ids")));
        }
        return ids;
    }
}
