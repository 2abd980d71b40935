using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using PieceType = Trainer.Text.SentencePieceModel.PieceType;

namespace Trainer.Text;

/// <summary>
/// Builds a Hugging Face <c>tokenizer.json</c> (the tokenizers library's format, read by transformers,
/// sentence-transformers, text-embeddings-inference and transformers.js) that gives the ids of
/// <see cref="EmbeddingTokenizer"/>: BOS, the SentencePiece BPE ids of the text, EOS.
/// <list type="bullet">
/// <item>Model: BPE over the SentencePiece vocabulary in id order, <c>byte_fallback</c> as the model has it, and one merge
/// (left, right) for every way a normal piece splits into two normal pieces. SentencePiece merges the adjacent pair
/// whose joined piece scores highest; the merges are therefore listed by that piece's score (highest first), then by
/// its id, then by the ids of the left and right parts, so that a lower rank means a higher score.</item>
/// <item>Normalizer: the dummy prefix (Prepend "▁", which the library applies to non-empty text only, as SentencePiece
/// does) and spaces as "▁" (Replace). No pre-tokenizer: the whole text is one word, as SentencePiece sees it.</item>
/// <item>No added tokens: &lt;unk&gt;, &lt;s&gt; and &lt;/s&gt; stay plain vocabulary entries, so a literal "&lt;/s&gt;" in a
/// text is text, as it is for SentencePiece. Every reader splits added tokens out of the text before normalization,
/// and transformers.js and text-embeddings-inference have no switch to stop it.</item>
/// <item>Post-processor: TemplateProcessing, BOS + text + EOS (pairs: BOS A EOS BOS B EOS).</item>
/// <item>Decoder: "▁" back to a space, byte pieces back to bytes, the dummy prefix's space stripped.</item>
/// <item>Truncation (when a maximum length is given): right, at that length; the tokenizers library truncates the
/// text's ids to the length less the template's special tokens and then adds BOS and EOS, as
/// <see cref="EmbeddingTokenizer.Encode"/> does.</item>
/// </list>
/// What the format cannot express is refused with <see cref="NotSupportedException"/>: SentencePiece's
/// remove_extra_whitespaces, unused pieces (re-segmentation), user-defined pieces, a piece holding a character that is
/// not itself a piece, and byte fallback without all 256 byte pieces. One behaviour is not checked because it cannot
/// be detected from the vocabulary alone: SentencePiece breaks ties between equal-score merges of different pairs by
/// position (leftmost first), the format only by rank. See docs/tokenizer.md.
/// </summary>
public static class HfTokenizerJson
{
    private const char Meta = '\u2581'; // ▁, SentencePiece's escaped space

    /// <summary>Reads and checks a <c>tokenizer.model</c>; anything unreadable or inconsistent names the file.</summary>
    public static SentencePieceModel ReadModel(string tokenizerModelPath)
    {
        if (!File.Exists(tokenizerModelPath)) throw new FileNotFoundException($"Tokenizer not found: {tokenizerModelPath}", tokenizerModelPath);
        SentencePieceModel model;
        try
        {
            model = SentencePieceModel.Parse(File.ReadAllBytes(tokenizerModelPath));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{tokenizerModelPath}: not a SentencePiece tokenizer.model ({e.Message})", e);
        }
        model.Validate(tokenizerModelPath);
        return model;
    }

    /// <summary>The tokenizer.json of a validated model; <paramref name="source"/> names it in errors.</summary>
    public static JsonObject Build(SentencePieceModel model, string source, int? maxLength)
    {
        CheckExpressible(model, source);
        if (maxLength is < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2 (BOS and EOS).");

        string unk = model.Pieces[model.UnknownId].Text, bos = model.Pieces[model.BosId].Text, eos = model.Pieces[model.EosId].Text;
        var vocab = new JsonObject();
        for (int id = 0; id < model.Pieces.Count; id++) vocab[model.Pieces[id].Text] = id;

        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = maxLength is int length
                ? new JsonObject { ["direction"] = "Right", ["max_length"] = length, ["strategy"] = "LongestFirst", ["stride"] = 0 }
                : null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(),
            ["normalizer"] = Normalizer(model),
            ["pre_tokenizer"] = null,
            ["post_processor"] = PostProcessor(bos, model.BosId, eos, model.EosId),
            ["decoder"] = Decoder(model),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = unk,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = model.ByteFallback,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = MergesJson(Merges(model)),
            },
        };
    }

    /// <summary>
    /// (left, right) for every split of a normal piece into two normal pieces, highest-scoring result first; ties by the
    /// result's id, then the parts' ids.
    /// </summary>
    public static List<(string Left, string Right)> Merges(SentencePieceModel model)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < model.Pieces.Count; id++)
            if (model.Pieces[id].Type == PieceType.Normal) ids[model.Pieces[id].Text] = id;

        var merges = new List<(float Score, int Id, int LeftId, int RightId, string Left, string Right)>();
        foreach (var (piece, id) in ids)
        {
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsHighSurrogate(piece[split - 1])) continue; // never inside a code point
                string left = piece[..split], right = piece[split..];
                if (ids.TryGetValue(left, out int leftId) && ids.TryGetValue(right, out int rightId))
                    merges.Add((model.Pieces[id].Score, id, leftId, rightId, left, right));
            }
        }
        merges.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score)
            : a.Id != b.Id ? a.Id.CompareTo(b.Id)
            : a.LeftId != b.LeftId ? a.LeftId.CompareTo(b.LeftId)
            : a.RightId.CompareTo(b.RightId));
        return merges.Select(m => (m.Left, m.Right)).ToList();
    }

    /// <summary>"left right" strings, which every version of the format reads, unless a part holds a space (then pairs).</summary>
    private static JsonArray MergesJson(List<(string Left, string Right)> merges)
    {
        bool pairs = merges.Any(m => m.Left.Contains(' ') || m.Right.Contains(' '));
        var array = new JsonArray();
        foreach (var (left, right) in merges)
            array.Add(pairs ? new JsonArray(left, right) : (JsonNode)$"{left} {right}");
        return array;
    }

    private static void CheckExpressible(SentencePieceModel model, string source)
    {
        string Refuse(string what) =>
            $"{source}: {what}; tokenizer.json cannot reproduce this SentencePiece behaviour exactly, so no Hugging Face tokenizer files are written for it (see docs/tokenizer.md).";

        if (model.ModelType != 2)
            throw new NotSupportedException(Refuse($"model type {model.ModelType} is not BPE (2)"));
        if (model.NormalizerName is not ("identity" or "") && model.PrecompiledCharsmapLength > 0)
            throw new NotSupportedException(Refuse($"normalizer '{model.NormalizerName}' rewrites characters (precompiled charsmap)"));
        if (model.RemoveExtraWhitespaces)
            throw new NotSupportedException(Refuse("remove_extra_whitespaces is on (leading, trailing and repeated spaces dropped)"));

        var normal = new HashSet<string>(StringComparer.Ordinal);
        int bytePieces = 0;
        for (int id = 0; id < model.Pieces.Count; id++)
        {
            var piece = model.Pieces[id];
            switch (piece.Type)
            {
                case PieceType.Unused:
                    throw new NotSupportedException(Refuse($"piece {id} ('{piece.Text}') is unused (SentencePiece splits it back into the pieces that formed it)"));
                case PieceType.UserDefined:
                    throw new NotSupportedException(Refuse($"piece {id} ('{piece.Text}') is user-defined"));
                case PieceType.Normal:
                    normal.Add(piece.Text);
                    break;
                case PieceType.Byte:
                    bytePieces++;
                    break;
            }
        }
        if (model.ByteFallback && bytePieces != 256)
            throw new NotSupportedException(Refuse($"byte_fallback is on but the model has {bytePieces} of the 256 byte pieces <0x00>..<0xFF>"));
        foreach (var piece in normal)
        {
            for (int i = 0; i < piece.Length; i += char.IsSurrogatePair(piece, i) ? 2 : 1)
            {
                string codePoint = char.IsSurrogatePair(piece, i) ? piece.Substring(i, 2) : piece.Substring(i, 1);
                if (!normal.Contains(codePoint))
                    throw new NotSupportedException(Refuse($"piece '{piece}' holds '{codePoint}' (U+{char.ConvertToUtf32(codePoint, 0).ToString("X4", CultureInfo.InvariantCulture)}), which is not a piece itself"));
            }
        }
    }

    /// <summary>What SentencePiece does before segmenting (with remove_extra_whitespaces off): " " + text, spaces as ▁.</summary>
    private static JsonObject? Normalizer(SentencePieceModel model)
    {
        var steps = new JsonArray();
        if (model.AddDummyPrefix) steps.Add(new JsonObject { ["type"] = "Prepend", ["prepend"] = model.EscapeWhitespaces ? Meta.ToString() : " " });
        if (model.EscapeWhitespaces) steps.Add(Replace(" ", Meta.ToString()));
        return steps.Count == 0 ? null : new JsonObject { ["type"] = "Sequence", ["normalizers"] = steps };
    }

    private static JsonObject PostProcessor(string bos, int bosId, string eos, int eosId)
    {
        static JsonObject Special(string token, int typeId) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = typeId } };
        static JsonObject Sequence(string id, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        static JsonObject Entry(string token, int id) => new() { ["id"] = token, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(token) };

        var specialTokens = new JsonObject { [bos] = Entry(bos, bosId) };
        if (eos != bos) specialTokens[eos] = Entry(eos, eosId);
        return new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(Special(bos, 0), Sequence("A", 0), Special(eos, 0)),
            ["pair"] = new JsonArray(Special(bos, 0), Sequence("A", 0), Special(eos, 0), Special(bos, 1), Sequence("B", 1), Special(eos, 1)),
            ["special_tokens"] = specialTokens,
        };
    }

    private static JsonObject Decoder(SentencePieceModel model)
    {
        var steps = new JsonArray();
        if (model.EscapeWhitespaces) steps.Add(Replace(Meta.ToString(), " "));
        steps.Add(new JsonObject { ["type"] = "ByteFallback" });
        steps.Add(new JsonObject { ["type"] = "Fuse" });
        if (model.AddDummyPrefix) steps.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        return new JsonObject { ["type"] = "Sequence", ["decoders"] = steps };
    }

    private static JsonObject Replace(string pattern, string content) =>
        new() { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = pattern }, ["content"] = content };
}
