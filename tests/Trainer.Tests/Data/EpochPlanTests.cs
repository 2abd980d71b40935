using Trainer.Data;

namespace Trainer.Tests.Data;

public class EpochPlanTests
{
    private static EpochPlan Plan(int[] sizes, double[] weights, bool sameSource, int batch = 4, int seed = 7, bool shuffle = true) =>
        new(sizes, weights, sameSource, batch, seed, shuffle);

    /// <summary>With every weight 1, mixed batches are exactly the one-pool order Trainer always used: consecutive slices of <see cref="EpochOrder"/>.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mixed_with_weight_one_is_the_old_epoch_order(bool shuffle)
    {
        var plan = Plan([10, 13], [1, 1], sameSource: false, batch: 4, seed: 42, shuffle: shuffle);
        Assert.Equal(5, plan.StepsPerEpoch); // 23 rows / 4, the last 3 not used
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var order = EpochOrder.For(23, 42, epoch, shuffle);
            var batches = plan.Batches(epoch);
            Assert.Equal(Enumerable.Range(0, 5).Select(b => order[(b * 4)..(b * 4 + 4)]), batches);
        }
    }

    /// <summary>weight 0.5 of 10 rows → 5 rows, 2.5 of 4 → 10 (each row twice, and 2 more drawn), 1 of 3 → 3: counted per row over the epoch.</summary>
    [Fact]
    public void Source_weights_give_the_expected_rows_per_epoch_with_a_new_draw_each_epoch()
    {
        var plan = Plan([10, 4, 3], [0.5, 2.5, 1.0], sameSource: false, batch: 1);
        Assert.Equal([5, 10, 3], plan.RowsPerSource);
        Assert.Equal(18, plan.StepsPerEpoch);
        var draws = new List<int[]>();
        for (int epoch = 0; epoch < 6; epoch++)
        {
            var rows = plan.Batches(epoch).SelectMany(b => b).ToList();
            var first = rows.Where(r => r < 10).ToList();
            Assert.Equal(5, first.Count);
            Assert.Equal(5, first.Distinct().Count());                        // without replacement
            var second = rows.Where(r => r is >= 10 and < 14).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(10, second.Values.Sum());
            Assert.Equal(4, second.Count);                                    // every row at least twice...
            Assert.Equal(2, second.Values.Count(c => c == 3));                // ...and two of them a third time
            Assert.Equal([14, 15, 16], rows.Where(r => r >= 14).Order());     // weight 1: each row once
            draws.Add([.. first.Order()]);
            Assert.Equal(rows, plan.Batches(epoch).SelectMany(b => b));      // a pure function of the epoch
        }
        Assert.True(draws.Distinct(new RowsComparer()).Count() >= 4, "each epoch draws anew");
        Assert.Equal(1, EpochPlan.RowsPerEpoch(3, 0.01));                      // at least one row
        Assert.Equal(3, EpochPlan.RowsPerEpoch(5, 0.5));                       // 2.5 rounds away from zero
    }

    /// <summary>
    /// same_source: 3 sources of 40, 20 and 90 rows at weights 1, 0.5 and 1, batch 8 → 5, 1 and 11 full batches per
    /// epoch (the leftover 0, 2 and 2 rows of each source dropped, as FlagEmbedding drops a dataset's incomplete last
    /// batch). Over 50 epochs (850 batches) every batch is one source's, and the counts are exactly those shares.
    /// Over the first 100 batches they come in proportion too (exact counts for seed 7, and within 3 standard deviations).
    /// </summary>
    [Fact]
    public void Same_source_batches_hold_one_source_in_proportion_to_the_weighted_sizes()
    {
        int[] sizes = [40, 20, 90];
        var plan = Plan(sizes, [1, 0.5, 1], sameSource: true, batch: 8);
        Assert.Equal([40, 10, 90], plan.RowsPerSource);
        Assert.Equal([5, 1, 11], plan.BatchesPerSource);
        Assert.Equal(17, plan.StepsPerEpoch);
        var counts = new int[3];
        var sequence = new List<int>();
        for (int epoch = 0; epoch < 50; epoch++)
        {
            foreach (var batch in plan.Batches(epoch))
            {
                var sources = batch.Select(plan.SourceOf).Distinct().ToList();
                Assert.Single(sources);
                Assert.Equal(8, batch.Distinct().Count());
                counts[sources[0]]++;
                sequence.Add(sources[0]);
            }
        }
        Assert.Equal([250, 50, 550], counts);
        var first100 = Enumerable.Range(0, 3).Select(s => sequence.Take(100).Count(x => x == s)).ToArray();
        Assert.Equal([29, 6, 65], first100); // seed 7
        double[] share = [5 / 17.0, 1 / 17.0, 11 / 17.0];
        for (int s = 0; s < 3; s++)
            Assert.InRange(first100[s], 100 * share[s] - 3 * Math.Sqrt(100 * share[s] * (1 - share[s])), 100 * share[s] + 3 * Math.Sqrt(100 * share[s] * (1 - share[s])));
        Assert.NotEqual(plan.Batches(0), plan.Batches(1));
        Assert.Equal(plan.Batches(3), Plan(sizes, [1, 0.5, 1], sameSource: true, batch: 8).Batches(3)); // deterministic by seed
        Assert.NotEqual(plan.Batches(0), Plan(sizes, [1, 0.5, 1], sameSource: true, batch: 8, seed: 8).Batches(0));
    }

    [Fact]
    public void Same_source_leaves_a_source_smaller_than_a_batch_out_and_without_shuffle_keeps_source_order()
    {
        var plan = Plan([3, 8], [1, 1], sameSource: true, batch: 4, shuffle: false);
        Assert.Equal([0, 2], plan.BatchesPerSource);
        Assert.Equal([[3, 4, 5, 6], [7, 8, 9, 10]], plan.Batches(0));
        Assert.Equal(0, plan.SourceOf(2));
        Assert.Equal(1, plan.SourceOf(3));
        Assert.Equal(1, Plan([0, 3, 0, 2], [1, 1, 1, 1], true, 1).SourceOf(0));
        Assert.Equal(3, Plan([0, 3, 0, 2], [1, 1, 1, 1], true, 1).SourceOf(3));
    }

    private sealed class RowsComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? a, int[]? b) => a!.SequenceEqual(b!);

        public int GetHashCode(int[] rows) => rows.Aggregate(17, (h, r) => h * 31 + r);
    }
}
