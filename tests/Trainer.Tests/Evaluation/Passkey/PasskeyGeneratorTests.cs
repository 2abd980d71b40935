using Trainer.Evaluation.Passkey;
using Trainer.Tests.Text;
using Trainer.Text;

namespace Trainer.Tests.Evaluation.Passkey;

/// <summary>
/// <see cref="PasskeyGenerator"/> on the real tokenizers of stories260k (SentencePiece, 512 pieces), tiny-mistral
/// (Mistral 7B's SentencePiece) and Qwen3 (byte-level tokenizer.json): exact lengths, candidates that differ only in the
/// passkey sentence, seeded positions and people, queries that name the document's person.
/// </summary>
public class PasskeyGeneratorTests
{
    private static readonly int[] PaperLengths = [256, 512, 1024, 2048, 4096];

    public static TheoryData<string> Tokenizers => ["stories260k", "tiny-mistral", "qwen3"];

    private static EmbeddingTokenizer Tokenizer(string name) => name switch
    {
        "stories260k" => EmbeddingTokenizer.Load(TestPaths.Stories260k),
        "tiny-mistral" => EmbeddingTokenizer.Load(TestPaths.TinyMistral),
        "qwen3" => EmbeddingTokenizer.Load(ByteLevelBpeReference.Package("qwen3")),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Every_document_is_exactly_the_length_and_the_ids_of_its_text(string name)
    {
        var tokenizer = Tokenizer(name);
        var generator = new PasskeyGenerator(tokenizer, seed: 42);
        foreach (int length in PaperLengths)
        {
            var set = generator.Build(length, candidates: 10);
            Assert.Equal(length, set.Length);
            Assert.Equal(10, set.Candidates.Count);
            foreach (var c in set.Candidates)
            {
                Assert.Equal(length, c.DocumentIds.Length);
                Assert.Equal(tokenizer.PrefixIds, c.DocumentIds[..tokenizer.PrefixIds.Count]);
                Assert.Equal(tokenizer.SuffixIds, c.DocumentIds[^tokenizer.SuffixIds.Count..]);
                // the ids are what embed gives the document's text at max_length = length (the text's tail is cut)
                Assert.Equal(tokenizer.Encode(c.Text, null, length), c.DocumentIds);
                Assert.Contains(PasskeyText.KeySentence(c.Name, c.Passkey), c.Text);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Candidates_differ_only_in_the_passkey_sentence_which_names_their_person(string name)
    {
        var tokenizer = Tokenizer(name);
        var set = new PasskeyGenerator(tokenizer, seed: 7).Build(1024, candidates: 30);
        var first = set.Candidates[0].DocumentIds;
        int start = set.KeyStart, end = set.KeyStart + set.KeyLength;
        foreach (var c in set.Candidates.Skip(1))
        {
            // token by token: equal outside [start, end), different inside
            for (int i = 0; i < first.Length; i++)
                if (i < start || i >= end) Assert.True(first[i] == c.DocumentIds[i], $"{c.Name}: id {i} differs outside the passkey sentence [{start}, {end})");
            Assert.False(first.AsSpan(start, set.KeyLength).SequenceEqual(c.DocumentIds.AsSpan(start, set.KeyLength)));
        }
        foreach (var c in set.Candidates)
        {
            string key = PasskeyText.KeySentence(c.Name, c.Passkey);
            var keyIds = tokenizer.IsSentencePiece ? tokenizer.Bpe.Encode(key, addBos: false).ToArray() : tokenizer.ByteLevel.Encode(" " + key);
            Assert.Equal(keyIds, c.DocumentIds[start..end]);
            if (tokenizer.IsSentencePiece) Assert.Equal(key, tokenizer.Bpe.Decode(c.DocumentIds[start..end]));
            // the filler mentions no digit: the sentence is the only place the passkey is given
            Assert.DoesNotContain(c.Text.Replace(key, "", StringComparison.Ordinal), char.IsDigit);
        }
        Assert.Equal(30, set.Candidates.Select(c => c.Name).Distinct().Count());
        Assert.Equal(30, set.Candidates.Select(c => c.Passkey).Distinct().Count());
        Assert.All(set.Candidates, c => Assert.InRange(c.Passkey, 10000, 99999));
    }

    [Fact]
    public void Each_query_asks_for_its_own_documents_person_and_no_other_document_names_them()
    {
        var set = new PasskeyGenerator(EmbeddingTokenizer.Load(TestPaths.Stories260k), seed: 42).Build(512, candidates: 20);
        for (int i = 0; i < set.Candidates.Count; i++)
        {
            var c = set.Candidates[i];
            Assert.Equal($"what is {c.Name}'s passkey?", c.Query);
            Assert.Contains($"{c.Name}'s passkey is {c.Passkey}.", c.Text);
            for (int j = 0; j < set.Candidates.Count; j++)
                if (j != i) Assert.DoesNotContain(c.Name, set.Candidates[j].Text);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_sets_and_another_seed_other_people_and_places()
    {
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.Stories260k);
        var a = new PasskeyGenerator(tokenizer, seed: 42).Build(2048, 25);
        var b = new PasskeyGenerator(tokenizer, seed: 42).Build(2048, 25);
        Assert.Equal(a.KeyStart, b.KeyStart);
        Assert.Equal(a.Candidates.Select(c => (c.Name, c.Passkey, c.Query, c.Text)), b.Candidates.Select(c => (c.Name, c.Passkey, c.Query, c.Text)));
        Assert.All(a.Candidates.Zip(b.Candidates), p => Assert.Equal(p.First.DocumentIds, p.Second.DocumentIds));

        var other = new PasskeyGenerator(tokenizer, seed: 43).Build(2048, 25);
        Assert.NotEqual(a.Candidates.Select(c => c.Name), other.Candidates.Select(c => c.Name));
        Assert.NotEqual(a.Candidates.Select(c => c.Passkey), other.Candidates.Select(c => c.Passkey));

        // the place is drawn per seed and length: over ten seeds it moves, always to a filler sentence's start
        var starts = Enumerable.Range(0, 10).Select(seed => new PasskeyGenerator(tokenizer, seed).Build(1024, 5)).ToList();
        Assert.True(starts.Select(s => s.KeyStart).Distinct().Count() >= 5, $"places {string.Join(", ", starts.Select(s => s.KeyStart))}");
        var boundaries = SentenceStarts(tokenizer, 1024);
        Assert.All(starts, s => Assert.Contains(s.KeyStart, boundaries));
        Assert.Contains(starts, s => s.Depth < 0.5);
        Assert.Contains(starts, s => s.Depth > 0.5);
        // per length under one seed the place moves and the people stay
        var generator = new PasskeyGenerator(tokenizer, seed: 42);
        var lengths = PaperLengths.Select(l => generator.Build(l, 5)).ToList();
        Assert.True(lengths.Select(s => s.Depth).Distinct().Count() >= 4, $"depths {string.Join(", ", lengths.Select(s => s.Depth))}");
        Assert.All(lengths, s => Assert.Equal(lengths[0].Candidates.Select(c => (c.Name, c.Passkey)), s.Candidates.Select(c => (c.Name, c.Passkey))));
    }

    [Fact]
    public void A_length_too_short_for_the_sentence_and_too_many_candidates_are_refused_with_what_to_give()
    {
        var generator = new PasskeyGenerator(EmbeddingTokenizer.Load(TestPaths.Stories260k), seed: 42);
        int needed = generator.Build(256, 2).KeyLength + 2;
        Assert.Equal(needed, generator.Build(needed, 2).Length); // just fits: the sentence and BOS, EOS
        var error = Assert.Throws<ArgumentException>(() => generator.Build(needed - 1, 2));
        Assert.Contains($"--lengths {needed - 1} is too short", error.Message);
        Assert.Contains($"at least {needed}", error.Message);
        var many = Assert.Throws<ArgumentException>(() => generator.Build(256, 1000));
        Assert.Contains("--candidates 1000 is too many", many.Message);
    }

    /// <summary>Where each filler sentence starts in a document without the passkey sentence (BOS counted).</summary>
    private static HashSet<int> SentenceStarts(EmbeddingTokenizer tokenizer, int length)
    {
        var starts = new HashSet<int>();
        for (int s = 0, at = tokenizer.PrefixIds.Count; at < length; s++)
        {
            starts.Add(at);
            at += tokenizer.Bpe.Encode(PasskeyText.Filler[s % PasskeyText.Filler.Length], addBos: false).Count;
        }
        return starts;
    }
}
