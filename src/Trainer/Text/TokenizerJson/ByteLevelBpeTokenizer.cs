using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// A model folder's Hugging Face <c>tokenizer.json</c> (byte-level BPE: Qwen2/2.5/3, Llama 3.x) giving the tokenizers
/// library's ids, stage by stage as the format specifies: added tokens are found first (<see cref="AddedTokenSplitter"/>),
/// each remaining piece is normalized (<see cref="UnicodeNormalizer"/>), pre-tokenized (<see cref="SplitPreTokenizer"/>
/// then <see cref="ByteLevelPreTokenizer"/>) and merged (<see cref="BpeModel"/>); the post-processor's special tokens
/// (<see cref="SpecialTokenTemplate"/>) are added only when asked for. With a max length, a long text is encoded chunk by
/// chunk, cut where the ids of the parts are those of the whole (<see cref="TextCuts"/>), and read only until the ids are
/// there. <c>tokenizer_config.json</c>, when present, names the
/// BOS and EOS tokens (transformers reads them there); a token it names must exist, never defaulting to id 0.
/// Anything this reader does not implement is refused with the file and key, never approximated.
/// </summary>
public sealed class ByteLevelBpeTokenizer
{
    public const string TokenizerFile = "tokenizer.json", ConfigFile = "tokenizer_config.json";

    private readonly AddedTokenSplitter _raw, _normalized;
    private readonly UnicodeNormalizer _normalizer;
    private readonly IPreTokenizer[] _preTokenizers;
    private readonly BpeModel _model;
    private readonly TextCuts _cuts;

    private ByteLevelBpeTokenizer(AddedTokenSplitter raw, AddedTokenSplitter normalized, UnicodeNormalizer normalizer, IPreTokenizer[] preTokenizers,
        BpeModel model, SpecialTokenTemplate template, IReadOnlyList<AddedToken> addedTokens, int? bosId, int? eosId, int vocabSize)
    {
        _raw = raw;
        _normalized = normalized;
        _normalizer = normalizer;
        _preTokenizers = preTokenizers;
        _model = model;
        _cuts = new TextCuts(normalizer, preTokenizers, addedTokens);
        Template = template;
        AddedTokens = addedTokens;
        BosId = bosId;
        EosId = eosId;
        VocabSize = vocabSize;
    }

    /// <summary>What the post-processor adds around a text's ids (Llama 3.1: BOS before; Qwen: nothing).</summary>
    public SpecialTokenTemplate Template { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>tokenizer_config.json's bos_token, or null when it names none (Qwen).</summary>
    public int? BosId { get; }

    /// <summary>tokenizer_config.json's eos_token, or null when there is no config or it names none.</summary>
    public int? EosId { get; }

    /// <summary>One more than the largest id the tokenizer can produce.</summary>
    public int VocabSize { get; }

    public static bool IsModelFolder(string modelDir) => File.Exists(Path.Combine(modelDir, TokenizerFile));

    public static ByteLevelBpeTokenizer Load(string modelDir)
    {
        var file = new TokenizerJsonReader(Path.Combine(modelDir, TokenizerFile));
        using var doc = TokenizerJsonReader.Parse(file.Path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw file.Error("(root)", "is not an object");

        var model = BpeModel.Read(file, file.Object(root, "model", "model"));
        var normalizer = UnicodeNormalizer.Read(file, TokenizerJsonReader.Optional(root, "normalizer"));
        var preTokenizers = ReadPreTokenizers(file, TokenizerJsonReader.Optional(root, "pre_tokenizer"));
        var addedTokens = ReadAddedTokens(file, root, model);
        var template = SpecialTokenTemplate.Read(file, TokenizerJsonReader.Optional(root, "post_processor"));

        var raw = new AddedTokenSplitter(addedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        var normalized = new AddedTokenSplitter(addedTokens.Where(t => t.Normalized).Select(t => (normalizer.Normalize(t.Content), t)));
        int vocabSize = Math.Max(model.Vocab.Values.DefaultIfEmpty(-1).Max(), addedTokens.Select(t => t.Id).DefaultIfEmpty(-1).Max()) + 1;
        foreach (var id in template.Prefix.Concat(template.Suffix))
            if (id >= vocabSize) throw file.Error("post_processor", $"adds id {id}, beyond the vocabulary ({vocabSize} ids)");

        var (bos, eos) = ReadSpecialTokens(Path.Combine(modelDir, ConfigFile), model, addedTokens);
        return new ByteLevelBpeTokenizer(raw, normalized, normalizer, preTokenizers, model, template, addedTokens, bos, eos, vocabSize);
    }

    /// <summary>The text's ids, no special tokens added (a special token's text in it still becomes that token).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>The post-processor's prefix, the text's ids, its suffix: Hugging Face's encode(text) with special tokens.</summary>
    public int[] EncodeWithSpecialTokens(string text) => [.. Template.Prefix, .. Encode(text), .. Template.Suffix];

    /// <summary>Where this tokenizer may cut a text without changing its ids.</summary>
    public TextCuts Cuts => _cuts;

    /// <summary>
    /// Appends the text's first <paramref name="maxIds"/> ids (all of them by default), no special tokens added. A long
    /// text is encoded in chunks that end at cuts (<see cref="TextCuts"/>), each sized from the ids still wanted at the
    /// rate of the chunks before it (4 characters an id at first), a quarter more and 64 characters to spare; the ids of
    /// the chunks one after the other are the whole text's, and no chunk is read once the ids are there. Within a chunk,
    /// pieces are merged independently, so the merges stop too.
    /// </summary>
    public void Encode(string text, List<int> ids, int maxIds = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxIds);
        int start = ids.Count, limit = ids.Count + maxIds < 0 ? int.MaxValue : ids.Count + maxIds;
        for (int from = 0; ids.Count < limit;) // the empty text too: ByteLevel's add_prefix_space makes it " "
        {
            double charsPerId = ids.Count > start ? (double)from / (ids.Count - start) : 4;
            double wanted = (limit - ids.Count) * charsPerId * 1.25 + 64;
            int to = from + wanted >= text.Length ? text.Length : _cuts.Next(text, from + (int)wanted);
            EncodeChunk(from == 0 && to == text.Length ? text : text[from..to], ids, limit);
            if ((from = to) == text.Length) break;
        }
        if (ids.Count > limit) ids.RemoveRange(limit, ids.Count - limit);
    }

    /// <summary>Appends the ids of a text standing alone, stopping the merges at <paramref name="limit"/> ids in all.</summary>
    private void EncodeChunk(string text, List<int> ids, int limit)
    {
        if (_raw.IsEmpty)
        {
            EncodeNormalizing(text, ids, limit);
        }
        else
        {
            var segments = new List<AddedTokenSplitter.Segment>();
            _raw.Split(text, segments);
            foreach (var s in segments)
            {
                if (ids.Count >= limit) break;
                if (s.Id >= 0) ids.Add(s.Id);
                else EncodeNormalizing(text.Substring(s.Start, s.Length), ids, limit);
            }
        }
    }

    private void EncodeNormalizing(string text, List<int> ids, int limit)
    {
        text = _normalizer.Normalize(text);
        if (_normalized.IsEmpty)
        {
            EncodePieces(text.AsMemory(), ids, limit);
            return;
        }
        var segments = new List<AddedTokenSplitter.Segment>();
        _normalized.Split(text, segments);
        foreach (var s in segments)
        {
            if (ids.Count >= limit) return;
            if (s.Id >= 0) ids.Add(s.Id);
            else EncodePieces(text.AsMemory(s.Start, s.Length), ids, limit);
        }
    }

    private void EncodePieces(ReadOnlyMemory<char> text, List<int> ids, int limit)
    {
        List<ReadOnlyMemory<char>> pieces = [text], next = [];
        foreach (var step in _preTokenizers)
        {
            next.Clear();
            foreach (var piece in pieces) step.Split(piece, next);
            (pieces, next) = (next, pieces);
        }
        foreach (var piece in pieces)
        {
            if (ids.Count >= limit) return;
            _model.Encode(piece.Span, ids);
        }
    }

    /// <summary>Split steps, then exactly one ByteLevel step last (the model reads its pieces as bytes).</summary>
    private static IPreTokenizer[] ReadPreTokenizers(TokenizerJsonReader file, JsonElement? preTokenizer)
    {
        if (preTokenizer is not JsonElement p)
            throw file.Unsupported("pre_tokenizer", "is null; byte-level BPE needs a ByteLevel pre-tokenizer (without one, spaces and newlines are not byte-mapped)");
        var steps = new List<(JsonElement Step, string Key)>();
        if (file.String(p, "type", "pre_tokenizer.type") == "Sequence")
        {
            int i = 0;
            foreach (var step in file.Array(p, "pretokenizers", "pre_tokenizer.pretokenizers").EnumerateArray()) steps.Add((step, $"pre_tokenizer.pretokenizers[{i++}]"));
        }
        else
        {
            steps.Add((p, "pre_tokenizer"));
        }

        var result = new List<IPreTokenizer>();
        for (int i = 0; i < steps.Count; i++)
        {
            var (step, key) = steps[i];
            string type = file.String(step, "type", key + ".type");
            bool last = i == steps.Count - 1;
            switch (type)
            {
                case "Split" when !last:
                    result.Add(SplitPreTokenizer.Read(file, step, key));
                    break;
                case "ByteLevel" when last:
                    var byteLevel = ByteLevelPreTokenizer.Read(file, step, key);
                    if (!byteLevel.IsIdentity) result.Add(byteLevel);
                    break;
                case "Split" or "ByteLevel":
                    throw file.Unsupported(key + ".type", $"is '{type}' at this place; expected Split steps then one ByteLevel step last");
                default:
                    throw file.Unsupported(key + ".type", $"is '{type}', a pre-tokenizer this reader does not implement (Split, ByteLevel)");
            }
        }
        return result.ToArray();
    }

    /// <summary>
    /// The added tokens, each of whose id must be the one the tokenizers library gives it when it loads the file: its
    /// vocabulary id when its text is in model.vocab, else the next id after the vocabulary and the added tokens before
    /// it. The library ignores the id written in the file, so a file where they differ is refused rather than read two ways.
    /// </summary>
    private static List<AddedToken> ReadAddedTokens(TokenizerJsonReader file, JsonElement root, BpeModel model)
    {
        var tokens = new List<AddedToken>();
        if (TokenizerJsonReader.Optional(root, "added_tokens") is not JsonElement added) return tokens;
        if (added.ValueKind != JsonValueKind.Array) throw file.Error("added_tokens", "is not an array");
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int modelSize = model.Vocab.Count, i = 0;
        foreach (var t in added.EnumerateArray())
        {
            string key = $"added_tokens[{i++}]";
            bool special = file.Bool(t, "special", key + ".special", absent: false);
            string content = file.String(t, "content", key + ".content");
            int id = file.Int(t, "id", key + ".id");
            if (content.Length == 0) throw file.Error(key + ".content", "is empty");
            int expected = ids.TryGetValue(content, out int known) ? known
                : model.Vocab.TryGetValue(content, out int inVocab) ? inVocab
                : ids.Count == 0 ? modelSize
                : ids.Values.Max() is int max && max >= modelSize ? max + 1 : modelSize;
            if (id != expected)
                throw file.Error(key + ".id", $"is {id}, but the tokenizers library gives '{content}' id {expected} (its model.vocab id, else the next free id), ignoring the file's");
            ids[content] = id;
            tokens.Add(new AddedToken(id, content, special,
                file.Bool(t, "single_word", key + ".single_word", absent: false), file.Bool(t, "lstrip", key + ".lstrip", absent: false),
                file.Bool(t, "rstrip", key + ".rstrip", absent: false), file.Bool(t, "normalized", key + ".normalized", absent: !special)));
        }
        return tokens;
    }

    /// <summary>bos_token and eos_token of tokenizer_config.json (a string or {"content": ...}), each resolved to its id.</summary>
    private static (int? Bos, int? Eos) ReadSpecialTokens(string configPath, BpeModel model, List<AddedToken> addedTokens)
    {
        if (!File.Exists(configPath)) return (null, null);
        var file = new TokenizerJsonReader(configPath);
        using var doc = TokenizerJsonReader.Parse(configPath);
        int? Resolve(string key)
        {
            if (TokenizerJsonReader.Optional(doc.RootElement, key) is not JsonElement value) return null;
            string? content = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                _ => throw file.Error(key, "is neither a token string nor {\"content\": token}"),
            };
            var added = addedTokens.FirstOrDefault(t => t.Content == content);
            if (added is not null) return added.Id;
            if (content is not null && model.Vocab.TryGetValue(content, out int id)) return id;
            throw file.Error(key, $"names '{content}', which is neither an added token nor in the vocabulary of {TokenizerFile}");
        }
        return (Resolve("bos_token"), Resolve("eos_token"));
    }
}
