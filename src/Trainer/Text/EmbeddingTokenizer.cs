using Trainer.Models;
using Trainer.Text.TokenizerJson;

namespace Trainer.Text;

/// <summary>
/// Turns a text (and optional instruction) into the ids the embedding model reads, from the model folder's tokenizer:
/// <list type="bullet">
/// <item><c>tokenizer.model</c> (SentencePiece; Mistral, Llama 2), whenever the folder has one: BOS + SentencePiece ids of
/// the formatted prompt, truncated to max_length − 1, then EOS. A literal "&lt;/s&gt;" in the text is text, never the EOS
/// token.</item>
/// <item>else <c>tokenizer.json</c> (Hugging Face byte-level BPE; Qwen2/2.5/3, Llama 3): what its post-processor puts
/// before a text (Llama 3.1/3.2: &lt;|begin_of_text|&gt;; Qwen: nothing), the prompt's ids, then the tokens its
/// post-processor puts after a text or, when it puts none, the pool token: &lt;|endoftext|&gt; when the tokenizer has
/// it (Qwen's end of text, which Qwen3-Embedding and gte-Qwen2 pool; a Qwen3 base lists the chat token
/// &lt;|im_end|&gt; as its eos_token), else tokenizer_config.json's eos_token; the text's ids are
/// truncated so that the whole fits max_length. A special token's text inside the text becomes that token, as in
/// Hugging Face.</item>
/// </list>
/// The last id is the position pooled (<see cref="EosId"/>).
/// </summary>
public sealed class EmbeddingTokenizer
{
    public const string ModelFile = "tokenizer.model";

    /// <summary>The end-of-text token of Qwen's (and GPT-2-style) byte-level vocabularies.</summary>
    public const string EndOfText = "<|endoftext|>";

    private readonly ByteLevelBpeTokenizer? _json;
    private readonly SentencePieceBpe? _bpe;
    private readonly int[] _prefix;
    private int[] _suffix;

    public EmbeddingTokenizer(SentencePieceBpe bpe)
    {
        _bpe = bpe;
        _prefix = [bpe.BosId];
        _suffix = [bpe.EosId];
        VocabSize = bpe.VocabSize;
    }

    /// <summary>A tokenizer.json tokenizer; <paramref name="source"/> (its folder) names it in errors.</summary>
    public EmbeddingTokenizer(ByteLevelBpeTokenizer json, string source)
    {
        _json = json;
        _prefix = json.Template.Prefix;
        _suffix = json.Template.Suffix.Length > 0 ? json.Template.Suffix
            : json.AddedTokens.FirstOrDefault(t => t.Content == EndOfText) is { } endOfText ? [endOfText.Id]
            : json.EosId is int eos ? [eos]
            : throw new InvalidDataException($"{Path.Combine(source, ByteLevelBpeTokenizer.ConfigFile)}: eos_token is missing (or the file is), and the post_processor of " +
                                             $"{Path.Combine(source, ByteLevelBpeTokenizer.TokenizerFile)} adds no token after a text; the embedding is pooled at that token, so one of them must name it.");
        VocabSize = json.VocabSize;
    }

    /// <summary>The SentencePiece tokenizer; a tokenizer.json model has none (see <see cref="IsSentencePiece"/>).</summary>
    public SentencePieceBpe Bpe => _bpe ?? throw new InvalidOperationException("This model's tokenizer is tokenizer.json (byte-level BPE), not SentencePiece.");

    public bool IsSentencePiece => _bpe is not null;

    /// <summary>The tokenizer.json tokenizer; a SentencePiece model has none (see <see cref="IsSentencePiece"/>).</summary>
    public ByteLevelBpeTokenizer ByteLevel => _json ?? throw new InvalidOperationException("This model's tokenizer is SentencePiece (tokenizer.model), not tokenizer.json.");

    /// <summary>The ids put after every text (SentencePiece: EOS); the last one is pooled.</summary>
    public IReadOnlyList<int> SuffixIds => _suffix;

    /// <summary>The last id of every row, the position pooled.</summary>
    public int EosId => _suffix[^1];

    /// <summary>The ids put before every text (SentencePiece: BOS).</summary>
    public IReadOnlyList<int> PrefixIds => _prefix;

    public int VocabSize { get; }

    /// <summary>How queries are written (<c>data.query_template</c>); e5's unless <see cref="WithTemplate"/> says otherwise.</summary>
    public QueryTemplate Template { get; private set; } = QueryTemplate.E5;

    /// <summary>This tokenizer writing queries with <paramref name="template"/>.</summary>
    public EmbeddingTokenizer WithTemplate(QueryTemplate template)
    {
        var copy = (EmbeddingTokenizer)MemberwiseClone();
        copy.Template = template;
        return copy;
    }

    /// <summary>
    /// This tokenizer pooling <paramref name="poolToken"/> (<c>model.pool_token</c>; null keeps the rule above). A
    /// tokenizer.json model appends it after what its post-processor appends, unless that already ends with it, so it is
    /// never appended twice; it must be one of the file's added tokens. A SentencePiece model pools its EOS piece and
    /// accepts only that piece's text.
    /// </summary>
    public EmbeddingTokenizer WithPoolToken(string? poolToken, string source = "model.pool_token")
    {
        if (poolToken is null) return this;
        var copy = (EmbeddingTokenizer)MemberwiseClone();
        if (_bpe is not null)
        {
            if (poolToken != _bpe.EosPiece)
                throw new ArgumentException($"{source} = {poolToken} is not allowed for a SentencePiece tokenizer (tokenizer.model): it pools its EOS piece; expected {_bpe.EosPiece} or no value.");
            return copy;
        }
        var token = _json!.AddedTokens.FirstOrDefault(t => t.Content == poolToken)
            ?? throw new ArgumentException($"{source} = {poolToken} is not one of tokenizer.json's added tokens; expected one of " +
                                           $"{string.Join(", ", _json.AddedTokens.Where(t => t.Special).Take(12).Select(t => t.Content))}{(_json.AddedTokens.Count(t => t.Special) > 12 ? ", …" : "")}.");
        var template = _json.Template.Suffix;
        copy._suffix = template.Length > 0 && template[^1] == token.Id ? template : [.. template, token.Id];
        return copy;
    }

    /// <summary>The text of the pooled token, as <c>model.pool_token</c> would name it.</summary>
    public string PoolTokenText => _bpe is not null ? _bpe.EosPiece
        : _json!.AddedTokens.FirstOrDefault(t => t.Id == EosId)?.Content ?? $"id {EosId}";

    /// <summary><see cref="ModelFile"/> when the folder has one (or has no tokenizer.json either), else tokenizer.json.</summary>
    public static EmbeddingTokenizer Load(string modelDir) =>
        File.Exists(Path.Combine(modelDir, ModelFile)) || !ByteLevelBpeTokenizer.IsModelFolder(modelDir)
            ? new(SentencePieceBpe.Load(Path.Combine(modelDir, ModelFile)))
            : new(ByteLevelBpeTokenizer.Load(modelDir), modelDir);

    /// <summary>
    /// Loads the tokenizer and checks that every id it can produce (its pieces, BOS and EOS) is a row of the model's
    /// embedding table. A tokenizer smaller than vocab_size is fine (Hugging Face models often pad the vocabulary).
    /// </summary>
    public static EmbeddingTokenizer Load(string modelDir, IDecoderConfig config, string? poolToken = null)
    {
        var tokenizer = Load(modelDir).WithPoolToken(poolToken);
        string tokenizerPath = Path.Combine(modelDir, tokenizer.IsSentencePiece ? ModelFile : ByteLevelBpeTokenizer.TokenizerFile);
        string configPath = Path.Combine(modelDir, PretrainedLoader.ConfigFile);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"{tokenizerPath} has {tokenizer.VocabSize} pieces but {configPath} has vocab_size = {config.VocabSize}; " +
                                           "the tokenizer must not produce ids the model has no embedding for.");
        var specials = tokenizer._prefix.Select(id => ("BOS", id)).Concat(tokenizer._suffix.Select(id => ("EOS", id)));
        foreach (var (name, id) in specials)
            if (id < 0 || id >= config.VocabSize)
                throw new InvalidDataException($"{tokenizerPath} has {name} id {id}, outside [0, {config.VocabSize}) of vocab_size in {configPath}.");
        return tokenizer;
    }

    public int[] Encode(string text, string? instruction, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2 (BOS and EOS).");
        string prompt = Template.Format(text, instruction);
        if (_bpe is not null)
        {
            var ids = _bpe.Encode(prompt, addBos: true, maxIds: maxLength - 1); // reads only a prefix of a long text
            ids.Add(EosId);
            return ids.ToArray();
        }

        int room = maxLength - _prefix.Length - _suffix.Length;
        if (room < 0)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"max_length must leave room for the {_prefix.Length + _suffix.Length} special tokens the tokenizer adds.");
        var row = new List<int>(Math.Min(prompt.Length / 3 + _prefix.Length + _suffix.Length, maxLength));
        row.AddRange(_prefix);
        _json!.Encode(prompt, row, room); // reads a long text only until the row is full
        row.AddRange(_suffix);
        return row.ToArray();
    }
}
