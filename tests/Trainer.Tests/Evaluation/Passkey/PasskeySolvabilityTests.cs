using Trainer.Evaluation.Passkey;
using Trainer.Text;

namespace Trainer.Tests.Evaluation.Passkey;

/// <summary>
/// The test can be passed: an embedder that sees every token wherever it sits (a normalised bag of token ids, blind to
/// position) and given the person's name finds every person's document at every length: the documents differ only in
/// the passkey sentence, which names its own person twice. A model that scores below that loses the passkey sentence
/// somewhere in its long input, which is what the test measures.
/// </summary>
public class PasskeySolvabilityTests
{
    [Fact]
    public void A_bag_of_tokens_embedder_scores_one_at_every_length()
    {
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.Stories260k);
        var generator = new PasskeyGenerator(tokenizer, seed: 42);
        foreach (int length in new[] { 256, 1024, 4096 })
        {
            var set = generator.Build(length, 100);
            var documents = set.Candidates.Select(c => Bag(c.DocumentIds, tokenizer.VocabSize)).ToList();
            // the name alone (the rest of a query is the same for every person)
            var queries = set.Candidates.Select(c => Bag(tokenizer.Bpe.Encode(c.Name, addBos: false).ToArray(), tokenizer.VocabSize)).ToList();
            Assert.Equal(1.0, PasskeyScoring.Accuracy(PasskeyScoring.Hits(queries, documents)));
        }
    }

    private static float[] Bag(int[] ids, int vocab)
    {
        var counts = new float[vocab];
        foreach (int id in ids) counts[id]++;
        float norm = MathF.Sqrt(counts.Sum(c => c * c));
        return counts.Select(c => c / norm).ToArray();
    }
}
