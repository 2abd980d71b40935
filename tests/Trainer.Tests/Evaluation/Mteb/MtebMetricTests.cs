using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>The measures on examples small enough to work out by hand (each worked in its comment).</summary>
public class MtebMetricTests
{
    [Fact]
    public void Spearman_gives_ties_their_average_rank()
    {
        // x = [1, 2, 2, 3] → ranks [1, 2.5, 2.5, 4]; y = [1, 3, 2, 4] → ranks [1, 3, 2, 4].
        // deviations from 2.5: x [-1.5, 0, 0, 1.5], y [-1.5, 0.5, -0.5, 1.5]: Σxy = 4.5, Σx² = 4.5, Σy² = 5 → 4.5 / √22.5
        Assert.Equal([1, 2.5, 2.5, 4], Correlation.Ranks([1, 2, 2, 3]));
        Assert.Equal(4.5 / Math.Sqrt(22.5), Correlation.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 12);
    }

    [Fact]
    public void Average_precision_takes_tied_scores_as_one_threshold()
    {
        // scores 0.9 (rel), 0.5 (rel), 0.5 (not), 0.1 (rel): thresholds 0.9 → P 1, R 1/3; 0.5 → P 2/3, R 2/3; 0.1 → P 3/4, R 1
        // AP = 1/3·1 + 1/3·2/3 + 1/3·3/4 = (12 + 8 + 9) / 36
        Assert.Equal(29.0 / 36, AveragePrecision.Score([true, true, false, true], [0.9, 0.5, 0.5, 0.1]), 12);
    }

    [Fact]
    public void V_measure_of_a_split_cluster()
    {
        // truth a a b b, clusters 0 0 1 2: homogeneous (h = 1); H(K) = 1.5 ln 2, H(K|C) = 0.5 ln 2 → c = 2/3; V = 2·1·2/3 / (5/3) = 0.8
        Assert.Equal(0.8, VMeasure.Score(["a", "a", "b", "b"], [0, 0, 1, 2]), 12);
        Assert.Equal(1.0, VMeasure.Score(["a", "a", "b"], [5, 5, 3]), 12);
    }

    [Fact]
    public void Reciprocal_rank_stops_at_depth_ten()
    {
        var relevant = Enumerable.Range(0, 12).Select(i => i == 11).ToList();
        var scores = Enumerable.Range(0, 12).Select(i => 12.0 - i).ToList();
        Assert.Equal(0, RerankingEvaluator.ReciprocalRank(relevant, scores, 10));
        Assert.Equal(1.0 / 12, RerankingEvaluator.ReciprocalRank(relevant, scores, 12), 12);
    }

    [Fact]
    public void Pair_classification_thresholds_fall_midway_between_neighbouring_scores()
    {
        // sorted 0.9 (1), 0.8 (1), 0.4 (0), 0.3 (1): cutting after 0.8 gets 3 of 4 right, threshold (0.8 + 0.4) / 2;
        // F1: after 0.8 P 1 R 2/3 → 0.8; after 0.4 P 2/3 R 2/3; the last row is never a cut (MTEB's loop) → best 0.8
        var (accuracy, threshold) = PairClassificationEvaluator.BestAccuracy([0.3, 0.9, 0.4, 0.8], [true, true, false, true], true);
        Assert.Equal(0.75, accuracy);
        Assert.Equal(0.6, threshold, 12);
        Assert.Equal(0.8, PairClassificationEvaluator.BestF1([0.3, 0.9, 0.4, 0.8], [true, true, false, true], true).F1, 12);
    }

    [Fact]
    public void Mini_batch_k_means_separates_distant_blobs_whatever_the_seed()
    {
        var points = Enumerable.Range(0, 30).Select(i => new[] { (float)(i / 10 * 100 + i % 10 * 0.1), (float)(i % 3 * 0.05) }).ToList();
        foreach (int seed in new[] { 1, 2, 42 })
        {
            var clusters = MiniBatchKMeans.Cluster(points, 3, seed);
            Assert.Equal(1.0, VMeasure.Score(points.Select((_, i) => (i / 10).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), clusters), 12);
        }
    }
}
