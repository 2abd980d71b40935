using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// The <c>model</c> stage for byte-level BPE: a piece's UTF-8 bytes start as one symbol each (the vocabulary entry of
/// the byte's <see cref="ByteLevelAlphabet"/> character); then the adjacent pair whose merge has the lowest rank (its
/// index in <c>model.merges</c>) is merged, the leftmost such pair first, until no listed merge applies, as the
/// tokenizers library's BPE does. With <c>ignore_merges</c> (Llama 3) a piece that is itself a vocabulary entry is that
/// entry. Merges are read as "a b" strings or ["a", "b"] pairs.
/// <para>The merge loop is ours rather than Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> (2.0.1): that type has no
/// ignore_merges, and it is built around its own pre-tokenizer and special-token handling (with ByteLevel and no
/// pre-tokenizer it drops spaces and newlines), so each piece would pay a string round trip through its API. Working on
/// the bytes directly, with merges keyed by the two ids, needs no byte-level strings at all, and a cache of the pieces
/// already seen (most of a corpus) skips the loop entirely.</para>
/// </summary>
public sealed class BpeModel
{
    private const int CacheLimit = 100_000, CachedPieceLength = 32; // at most a few MB; most of a corpus repeats

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly Dictionary<long, long> _merges;          // (left << 32 | right) → (rank << 32 | merged id)
    private readonly int[] _byteIds = new int[256];
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private int _cached;

    private BpeModel(Dictionary<string, int> vocab, Dictionary<long, long> merges, bool ignoreMerges)
    {
        _vocab = vocab;
        _vocabLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _ignoreMerges = ignoreMerges;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int b = 0; b < 256; b++) _byteIds[b] = vocab[ByteLevelAlphabet.Char((byte)b).ToString()];
    }

    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    public static BpeModel Read(TokenizerJsonReader file, JsonElement model)
    {
        string type = file.String(model, "type", "model.type");
        if (type != "BPE") throw file.Unsupported("model.type", $"is '{type}', not BPE");
        if (file.Bool(model, "byte_fallback", "model.byte_fallback", absent: false))
            throw file.Unsupported("model.byte_fallback", "is true (SentencePiece-style byte fallback, not byte-level BPE)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix", "dropout" })
            if (TokenizerJsonReader.Optional(model, key) is JsonElement value && !(value.ValueKind == JsonValueKind.String && value.GetString() == ""))
                throw file.Unsupported("model." + key, $"is set ({value}); byte-level BPE leaves it null");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in file.Object(model, "vocab", "model.vocab").EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw file.Error($"model.vocab[\"{entry.Name}\"]", "is not a non-negative integer id");
            vocab[entry.Name] = id;
        }
        for (int b = 0; b < 256; b++)
        {
            string c = ByteLevelAlphabet.Char((byte)b).ToString();
            if (!vocab.ContainsKey(c))
                throw file.Error("model.vocab", $"has no entry for byte 0x{b:X2} ('{c}'); a byte-level BPE vocabulary holds all 256 byte characters");
        }

        var merges = new Dictionary<long, long>();
        int rank = 0;
        foreach (var merge in file.Array(model, "merges", "model.merges").EnumerateArray())
        {
            string key = $"model.merges[{rank}]";
            var (left, right) = MergeParts(file, merge, key);
            int leftId = Id(file, vocab, left, key), rightId = Id(file, vocab, right, key), merged = Id(file, vocab, left + right, key);
            merges[(long)leftId << 32 | (uint)rightId] = (long)rank << 32 | (uint)merged; // a repeated pair keeps its last rank, as the library does
            rank++;
        }
        return new BpeModel(vocab, merges, file.Bool(model, "ignore_merges", "model.ignore_merges", absent: false));
    }

    /// <summary>Appends the ids of one pre-tokenized piece.</summary>
    public void Encode(ReadOnlySpan<char> piece, List<int> ids)
    {
        if (piece.IsEmpty) return;
        if (_cacheLookup.TryGetValue(piece, out var cached))
        {
            ids.AddRange(cached);
            return;
        }
        int start = ids.Count;
        EncodeUncached(piece, ids);
        if (piece.Length <= CachedPieceLength && _cached < CacheLimit && _cache.TryAdd(piece.ToString(), ids.GetRange(start, ids.Count - start).ToArray()))
            Interlocked.Increment(ref _cached);
    }

    private void EncodeUncached(ReadOnlySpan<char> piece, List<int> ids)
    {
        int byteCount = Encoding.UTF8.GetByteCount(piece);
        byte[]? rentedBytes = byteCount > 256 ? ArrayPool<byte>.Shared.Rent(byteCount) : null;
        Span<byte> bytes = rentedBytes is null ? stackalloc byte[byteCount] : rentedBytes.AsSpan(0, byteCount);
        Encoding.UTF8.GetBytes(piece, bytes);
        try
        {
            if (_ignoreMerges && WholePiece(bytes) is int whole)
            {
                ids.Add(whole);
                return;
            }
            Merge(bytes, ids);
        }
        finally
        {
            if (rentedBytes is not null) ArrayPool<byte>.Shared.Return(rentedBytes);
        }
    }

    private int? WholePiece(ReadOnlySpan<byte> bytes)
    {
        char[]? rented = bytes.Length > 256 ? ArrayPool<char>.Shared.Rent(bytes.Length) : null;
        Span<char> spelled = rented is null ? stackalloc char[bytes.Length] : rented.AsSpan(0, bytes.Length);
        for (int i = 0; i < bytes.Length; i++) spelled[i] = ByteLevelAlphabet.Char(bytes[i]);
        int? id = _vocabLookup.TryGetValue(spelled, out int found) ? found : null;
        if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        return id;
    }

    /// <summary>Lowest rank first, leftmost first among equals; pairs[i] holds (rank, merged id) of symbols i and i + 1.</summary>
    private void Merge(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        int n = bytes.Length;
        int[] symbols = ArrayPool<int>.Shared.Rent(n);
        long[] pairs = ArrayPool<long>.Shared.Rent(n);
        for (int i = 0; i < n; i++) symbols[i] = _byteIds[bytes[i]];
        for (int i = 0; i + 1 < n; i++) pairs[i] = Pair(symbols[i], symbols[i + 1]);
        while (n > 1)
        {
            int best = -1;
            long bestPair = long.MaxValue;
            for (int i = 0; i + 1 < n; i++)
            {
                if (pairs[i] < bestPair)
                {
                    bestPair = pairs[i];
                    best = i;
                }
            }
            if (best < 0) break;
            symbols[best] = (int)(bestPair & 0xFFFFFFFF);
            Array.Copy(symbols, best + 2, symbols, best + 1, n - best - 2);
            Array.Copy(pairs, best + 2, pairs, best + 1, Math.Max(0, n - best - 3));
            n--;
            if (best + 1 < n) pairs[best] = Pair(symbols[best], symbols[best + 1]);
            if (best > 0) pairs[best - 1] = Pair(symbols[best - 1], symbols[best]);
        }
        for (int i = 0; i < n; i++) ids.Add(symbols[i]);
        ArrayPool<int>.Shared.Return(symbols);
        ArrayPool<long>.Shared.Return(pairs);
    }

    private long Pair(int left, int right) => _merges.TryGetValue((long)left << 32 | (uint)right, out long value) ? value : long.MaxValue;

    private static (string Left, string Right) MergeParts(TokenizerJsonReader file, JsonElement merge, string key)
    {
        if (merge.ValueKind == JsonValueKind.String)
        {
            var parts = merge.GetString()!.Split(' ');
            if (parts.Length != 2) throw file.Error(key, $"(\"{merge.GetString()}\") is not two tokens separated by one space");
            return (parts[0], parts[1]);
        }
        if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2 && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            return (merge[0].GetString()!, merge[1].GetString()!);
        throw file.Error(key, "is neither \"a b\" nor [\"a\", \"b\"]");
    }

    private static int Id(TokenizerJsonReader file, Dictionary<string, int> vocab, string token, string key) =>
        vocab.TryGetValue(token, out int id) ? id : throw file.Error(key, $"names '{token}', which is not in model.vocab");
}
