using System.Text;
using Google.Protobuf;
using Microsoft.ML.Tokenizers;
using PieceType = Trainer.Text.SentencePieceModel.PieceType;

namespace Trainer.Text;

/// <summary>
/// SentencePiece BPE encoding that reproduces the reference library id for id. Microsoft.ML.Tokenizers decodes;
/// the pieces and scores come from <see cref="SentencePieceModel"/> and the merge loop is ours, because the
/// package's own (2.0.1) resolves equal-score merges in a different order than SentencePiece. For example "!!!!!!"
/// becomes ▁! !!! !! there, while SentencePiece, which always merges the highest-scoring adjacent pair and breaks
/// ties by the leftmost position, gives ▁! !! !!!. It also returns no ids for "" where SentencePiece still
/// gives BOS.
/// </summary>
public sealed class SentencePieceBpe
{
    private readonly Dictionary<string, int> _pieces;           // normal, user-defined and unused pieces → id
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly float[] _scores;
    private readonly bool[] _unused;
    private readonly int[] _byteIds = new int[256];
    private readonly string[] _userDefined;
    private readonly bool _addDummyPrefix, _removeExtraWhitespaces, _escapeWhitespaces, _byteFallback;
    private readonly HashSet<int> _innerPairs = [];             // (c1 << 16) | c2 for each two adjacent chars inside a piece
    private readonly int _longestSymbol;                         // chars in the longest symbol the merge loop can hold
    private readonly bool _hasUnused;
    private readonly SentencePieceTokenizer _decoder;

    private SentencePieceBpe(SentencePieceModel proto, SentencePieceTokenizer decoder, string source)
    {
        if (proto.ModelType != 2)
            throw new NotSupportedException($"{source}: SentencePiece model type {proto.ModelType} is not supported; expected 2 (BPE, as Llama/Mistral tokenizers are).");
        if (proto.NormalizerName is not ("identity" or "") && proto.PrecompiledCharsmapLength > 0)
            throw new NotSupportedException($"{source}: normalizer '{proto.NormalizerName}' is not supported; expected 'identity'.");

        _decoder = decoder;
        _addDummyPrefix = proto.AddDummyPrefix;
        _removeExtraWhitespaces = proto.RemoveExtraWhitespaces;
        _escapeWhitespaces = proto.EscapeWhitespaces;
        _byteFallback = proto.ByteFallback;
        UnknownId = proto.UnknownId;
        BosId = proto.BosId;
        EosId = proto.EosId;
        EosPiece = proto.Pieces[proto.EosId].Text;
        VocabSize = proto.Pieces.Count;

        _pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        _scores = new float[proto.Pieces.Count];
        _unused = new bool[proto.Pieces.Count];
        Array.Fill(_byteIds, -1);
        var userDefined = new List<string>();
        for (int id = 0; id < proto.Pieces.Count; id++)
        {
            var piece = proto.Pieces[id];
            _scores[id] = piece.Score;
            switch (piece.Type)
            {
                case PieceType.Normal or PieceType.UserDefined or PieceType.Unused:
                    _pieces[piece.Text] = id;
                    _unused[id] = piece.Type == PieceType.Unused;
                    if (piece.Type == PieceType.UserDefined) userDefined.Add(piece.Text);
                    break;
                case PieceType.Byte:
                    _byteIds[Convert.ToInt32(piece.Text[3..5], 16)] = id; // "<0xAB>"
                    break;
            }
        }
        _userDefined = userDefined.OrderByDescending(p => p.Length).ToArray();
        _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _hasUnused = _unused.Any(u => u);
        _longestSymbol = Math.Max(2, _pieces.Keys.Max(p => p.Length)); // a code point may take two chars
        foreach (var piece in _pieces.Keys)
            for (int i = 1; i < piece.Length; i++) _innerPairs.Add(piece[i - 1] << 16 | piece[i]);
    }

    public int VocabSize { get; }
    public int BosId { get; }
    public int EosId { get; }

    /// <summary>The EOS piece's text (<c>&lt;/s&gt;</c> for Llama 2 and Mistral).</summary>
    public string EosPiece { get; }
    public int UnknownId { get; }

    /// <summary>Reads and checks a <c>tokenizer.model</c>; anything unreadable or inconsistent names the file.</summary>
    public static SentencePieceBpe Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        SentencePieceModel proto;
        try
        {
            proto = SentencePieceModel.Parse(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a SentencePiece tokenizer.model ({e.Message})", e);
        }
        proto.Validate(path);
        SentencePieceTokenizer decoder;
        try
        {
            decoder = SentencePieceTokenizer.Create(new MemoryStream(bytes), addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: Microsoft.ML.Tokenizers cannot read this tokenizer.model ({e.GetType().Name}: {e.Message})", e);
        }
        return new SentencePieceBpe(proto, decoder, path);
    }

    /// <summary>
    /// Text → ids exactly as SentencePiece's <c>EncodeAsIds</c>, with BOS first when asked, keeping the first
    /// <paramref name="maxIds"/> ids (BOS included). A bound lets a long text be encoded from a prefix only (see
    /// <see cref="NormalizedPrefix"/>), with the same ids as the whole text gives.
    /// </summary>
    public List<int> Encode(string text, bool addBos = true, int maxIds = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxIds);
        var ids = new List<int>(Math.Min(text.Length / 3 + 2, maxIds));
        if (addBos && maxIds > 0) ids.Add(BosId);
        if (ids.Count == maxIds) return ids;
        string normalized = NormalizedPrefix(text, maxIds - ids.Count);
        if (normalized.Length > 0) Segment(normalized, ids);
        if (ids.Count > maxIds) ids.RemoveRange(maxIds, ids.Count - maxIds);
        return ids;
    }

    public string Decode(IEnumerable<int> ids) => _decoder.Decode(ids.Where(id => id != BosId && id != EosId));

    /// <summary>
    /// The normalized text, or a prefix of it whose ids are the first <paramref name="wanted"/> ids of the whole.
    /// Why a prefix is exact: call position p of the normalized text a barrier when no piece holds the chars at
    /// p − 1 and p side by side and p does not split a surrogate pair. Every symbol the merge loop holds is one code
    /// point or a piece, so none spans a barrier: no pair across it is ever queued, the merges on either side never
    /// share a symbol, and the order of one side's merges (score, then position) does not depend on the other side.
    /// The text left of a barrier is therefore segmented exactly as if it stood alone. Normalization (extra spaces
    /// dropped, the dummy prefix, ▁ for a space) maps a prefix of the text to a prefix of the normalized text. Each
    /// final symbol covers at most <see cref="_longestSymbol"/> chars and gives at least one id, so a barrier at
    /// p ≥ wanted × that length has at least <paramref name="wanted"/> ids on its left, the same as the whole text's.
    /// A window of the text is normalized and searched for such a barrier, doubling until one is found; a text with
    /// none (megabytes with no space or unmergeable pair) is encoded whole. Vocabularies with unused pieces share a
    /// re-segmentation map across the whole text, so they are always encoded whole.
    /// </summary>
    private string NormalizedPrefix(string text, int wanted)
    {
        if (_hasUnused || wanted == int.MaxValue) return Normalize(text);
        long firstBarrier = Math.Max(1, (long)wanted * _longestSymbol);
        for (long window = firstBarrier + 1024; window < text.Length; window *= 2)
        {
            string normalized = Normalize(text[..(int)window]);
            for (int p = (int)firstBarrier; p < normalized.Length; p++)
                if (IsBarrier(normalized, p)) return normalized[..p];
        }
        return Normalize(text);
    }

    /// <summary>No symbol can span position p: no piece holds the chars on either side of it next to each other.</summary>
    private bool IsBarrier(string normalized, int p) =>
        !char.IsHighSurrogate(normalized[p - 1]) && !_innerPairs.Contains(normalized[p - 1] << 16 | normalized[p]);

    /// <summary>Appends the ids of an already normalized, non-empty text: the merge loop, then re-segmentation and byte fallback.</summary>
    private void Segment(string normalized, List<int> ids)
    {
        var symbols = Split(normalized);
        var agenda = new PriorityQueue<(int Left, int Right, int Length), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));

        Dictionary<string, (string Left, string Right)>? splits = null; // how each unused piece was formed, for re-segmentation

        void MaybeAdd(int left, int right)
        {
            if (left < 0 || right < 0 || symbols[left].Frozen || symbols[right].Frozen) return;
            int length = symbols[left].Length + symbols[right].Length;
            if (!_lookup.TryGetValue(normalized.AsSpan(symbols[left].Start, length), out int id)) return;
            agenda.Enqueue((left, right, length), (_scores[id], left));
            if (_unused[id])
                (splits ??= [])[normalized.Substring(symbols[left].Start, length)] =
                    (normalized.Substring(symbols[left].Start, symbols[left].Length), normalized.Substring(symbols[right].Start, symbols[right].Length));
        }

        for (int i = 1; i < symbols.Length; i++) MaybeAdd(i - 1, i);
        while (agenda.TryDequeue(out var pair, out _))
        {
            ref var left = ref symbols[pair.Left];
            ref var right = ref symbols[pair.Right];
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != pair.Length) continue; // stale
            left.Length += right.Length;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = pair.Left;
            right.Length = 0;
            MaybeAdd(left.Prev, pair.Left);
            MaybeAdd(pair.Left, left.Next);
        }

        for (int i = 0; i >= 0; i = symbols[i].Next)
            Emit(normalized.Substring(symbols[i].Start, symbols[i].Length), splits, ids);
    }

    private string Normalize(string text)
    {
        if (_removeExtraWhitespaces) text = string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0) return "";
        if (_addDummyPrefix) text = " " + text;
        return _escapeWhitespaces ? text.Replace(' ', '\u2581') : text;
    }

    /// <summary>One symbol per code point, except user-defined pieces, which stay whole and never merge.</summary>
    private Symbol[] Split(string normalized)
    {
        var symbols = new List<Symbol>(normalized.Length);
        for (int start = 0; start < normalized.Length;)
        {
            int length = char.IsHighSurrogate(normalized[start]) && start + 1 < normalized.Length ? 2 : 1;
            bool frozen = false;
            foreach (var piece in _userDefined)
            {
                if (string.CompareOrdinal(normalized, start, piece, 0, piece.Length) == 0 && start + piece.Length <= normalized.Length)
                {
                    (length, frozen) = (piece.Length, true);
                    break;
                }
            }
            symbols.Add(new Symbol { Start = start, Length = length, Frozen = frozen, Prev = symbols.Count - 1, Next = -1 });
            start += length;
        }
        var array = symbols.ToArray();
        for (int i = 0; i < array.Length - 1; i++) array[i].Next = i + 1;
        return array;
    }

    /// <summary>
    /// Appends a final symbol's id. An unused piece is split back into the two pieces that formed it (recursively),
    /// as SentencePiece's re-segmentation does; an unknown piece falls back to its UTF-8 bytes.
    /// </summary>
    private void Emit(string piece, Dictionary<string, (string Left, string Right)>? splits, List<int> ids)
    {
        if (_lookup.TryGetValue(piece, out int id))
        {
            if (_unused[id] && splits is not null && splits.TryGetValue(piece, out var parts))
            {
                Emit(parts.Left, splits, ids);
                Emit(parts.Right, splits, ids);
                return;
            }
            ids.Add(id);
            return;
        }
        if (!_byteFallback)
        {
            ids.Add(UnknownId);
            return;
        }
        foreach (var b in Encoding.UTF8.GetBytes(piece)) ids.Add(_byteIds[b] >= 0 ? _byteIds[b] : UnknownId);
    }

    private struct Symbol
    {
        public int Start, Length, Prev, Next;
        public bool Frozen;
    }
}
