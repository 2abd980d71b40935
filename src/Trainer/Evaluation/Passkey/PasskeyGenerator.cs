using Trainer.Data;
using Trainer.Text;

namespace Trainer.Evaluation.Passkey;

/// <summary>
/// Builds the personalised passkey documents and queries for one model's tokenizer, reproducibly from a seed.
/// <para>
/// For a length L:
/// <list type="number">
/// <item>the people, drawn from the seed alone (so every length asks about the same people): the first-name × last-name pairs of <see cref="PasskeyText"/> in a shuffled order, each with a
/// five-digit passkey that no other candidate has, until <c>candidates</c> of them have passkey sentences of one token
/// length (the first length to get there), so that the documents can differ in those ids only;</item>
/// <item>the place, drawn from the seed and L (<see cref="DeterministicHash"/>): one of the filler's sentence boundaries, uniform among those where the passkey sentence still fits
/// whole, shared by every candidate of this length;</item>
/// <item>each document: the tokenizer's prefix ids (BOS), the filler's ids up to the place, the passkey sentence's ids,
/// the filler's ids from there on, cut so that with the suffix ids (EOS, pooled) the row is exactly L ids.</item>
/// </list>
/// Each sentence is tokenized on its own as it reads after a space (SentencePiece's dummy prefix; a byte-level BPE gets
/// a leading space), so a document's ids are those of its <see cref="PasskeyCandidate.Text"/> given to
/// <see cref="EmbeddingTokenizer.Encode"/> with max_length L. The last filler sentence is usually cut part-way.
/// </para>
/// </summary>
public sealed class PasskeyGenerator
{
    private readonly EmbeddingTokenizer _tokenizer;
    private readonly int _seed;
    private readonly int[][] _filler;

    public PasskeyGenerator(EmbeddingTokenizer tokenizer, int seed)
    {
        (_tokenizer, _seed) = (tokenizer, seed);
        _filler = PasskeyText.Filler.Select(Ids).ToArray();
    }

    /// <summary>The prefix and suffix ids every row carries (BOS, EOS): a length must leave room for them and the passkey sentence.</summary>
    public int SpecialIds => _tokenizer.PrefixIds.Count + _tokenizer.SuffixIds.Count;

    /// <summary>The candidates of length <paramref name="length"/> (ids per document, specials included).</summary>
    public PasskeySet Build(int length, int candidates)
    {
        if (candidates < 2) throw new ArgumentOutOfRangeException(nameof(candidates), candidates, "--candidates must be at least 2.");
        var people = People(new Random((int)(DeterministicHash.Mix(_seed) & 0x7fffffff)), candidates);
        int keyLength = people[0].Ids.Length;
        int body = length - SpecialIds;
        if (keyLength > body)
            throw new ArgumentException($"--lengths {length} is too short: the passkey sentence takes {keyLength} tokens of this model's tokenizer " +
                                        $"and the special tokens {SpecialIds}; give lengths of at least {keyLength + SpecialIds}.");

        // the filler stream, sentence after sentence, until it covers the body; starts[i] = where sentence i begins
        var stream = new List<int>(body + 64);
        var starts = new List<int>();
        for (int s = 0; stream.Count < body - keyLength || starts.Count == 0; s++)
        {
            starts.Add(stream.Count);
            stream.AddRange(_filler[s % _filler.Length]);
        }
        var places = starts.Where(b => b <= body - keyLength).ToList();
        int sentence = new Random((int)(DeterministicHash.Mix(_seed, length) & 0x7fffffff)).Next(places.Count), at = places[sentence];
        int after = body - keyLength - at; // filler ids after the passkey sentence

        var list = new List<PasskeyCandidate>(candidates);
        foreach (var (name, passkey, key) in people)
        {
            var ids = new int[length];
            int i = 0;
            foreach (var id in _tokenizer.PrefixIds) ids[i++] = id;
            stream.CopyTo(0, ids, i, at);
            i += at;
            key.CopyTo(ids, i);
            i += key.Length;
            stream.CopyTo(at, ids, i, after);
            i += after;
            foreach (var id in _tokenizer.SuffixIds) ids[i++] = id;
            list.Add(new PasskeyCandidate(name, passkey, PasskeyText.Query(name), ids, Text(sentence, PasskeyText.KeySentence(name, passkey), after)));
        }
        return new PasskeySet(length, _tokenizer.PrefixIds.Count + at, keyLength, list);
    }

    /// <summary>
    /// Shuffled name pairs with unused passkeys, bucketed by the passkey sentence's token length, until one bucket holds
    /// <paramref name="count"/>.
    /// </summary>
    private List<(string Name, int Passkey, int[] Ids)> People(Random random, int count)
    {
        var names = PasskeyText.FirstNames.SelectMany(f => PasskeyText.LastNames.Select(l => $"{f} {l}")).ToArray();
        random.Shuffle(names);
        var used = new HashSet<int>();
        var buckets = new Dictionary<int, List<(string, int, int[])>>();
        foreach (var name in names)
        {
            int passkey;
            do passkey = random.Next(PasskeyText.MinPasskey, PasskeyText.MaxPasskey + 1);
            while (!used.Add(passkey));
            var ids = Ids(PasskeyText.KeySentence(name, passkey));
            if (!buckets.TryGetValue(ids.Length, out var bucket)) buckets[ids.Length] = bucket = [];
            bucket.Add((name, passkey, ids));
            if (bucket.Count == count) return bucket;
        }
        throw new ArgumentException($"--candidates {count} is too many: of the {names.Length} names, at most {buckets.Values.Max(b => b.Count)} " +
                                    "have passkey sentences of one token length in this model's tokenizer; give fewer candidates.");
    }

    /// <summary>A sentence's ids as it reads after a space, no special tokens.</summary>
    private int[] Ids(string sentence) =>
        _tokenizer.IsSentencePiece ? _tokenizer.Bpe.Encode(sentence, addBos: false).ToArray() : _tokenizer.ByteLevel.Encode(" " + sentence);

    /// <summary>
    /// The document's text: the filler sentences before the passkey sentence, the passkey sentence, then filler sentences
    /// until <paramref name="after"/> ids are covered (the last one whole; the ids cut it).
    /// </summary>
    private string Text(int sentence, string key, int after)
    {
        var parts = new List<string>();
        for (int s = 0; s < sentence; s++) parts.Add(PasskeyText.Filler[s % _filler.Length]);
        parts.Add(key);
        for (int s = sentence, covered = 0; covered < after; s++)
        {
            parts.Add(PasskeyText.Filler[s % _filler.Length]);
            covered += _filler[s % _filler.Length].Length;
        }
        string text = string.Join(" ", parts);
        return _tokenizer.IsSentencePiece ? text : " " + text;
    }
}
