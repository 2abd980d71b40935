using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

public class BitextNearestTests
{
    [Fact]
    public void The_matmul_nearest_target_equals_a_loop_over_every_cosine_across_chunks_ties_and_zero_vectors()
    {
        var random = new Random(5);
        float[] Vector() => Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var targets = Enumerable.Range(0, 50).Select(_ => Vector()).ToList();
        targets[7] = targets[3].ToArray();                       // an exact tie: the lower index wins
        targets[9] = targets[3].Select(v => v * 2).ToArray();    // the same direction, another length: a tie in cosine
        targets[11] = new float[16];                             // a zero vector scores 0
        var sources = Enumerable.Range(0, 1100).Select(i => i % 10 == 0 ? targets[3].ToArray() : Vector()).ToList(); // past one 1,024-row chunk
        sources[5] = new float[16];                              // scores 0 everywhere: index 0

        var expected = sources.Select(s =>
        {
            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int j = 0; j < targets.Count; j++)
                if (Similarity.Cosine(s, targets[j]) is var score && score > bestScore + 1e-12) (best, bestScore) = (j, score);
            return best;
        }).ToList();

        var actual = BitextMiningEvaluator.NearestByCosine(sources, targets);
        Assert.Equal(expected, actual);
        Assert.Equal(3, actual[10]);
        Assert.Equal(0, actual[5]);
    }
}
