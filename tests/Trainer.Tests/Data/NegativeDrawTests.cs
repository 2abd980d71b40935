using Trainer.Data;

namespace Trainer.Tests.Data;

public class NegativeDrawTests
{
    private static TrainingExample Row(int negatives) =>
        new("q", ["p"], Enumerable.Range(0, negatives).Select(i => $"n{i}").ToList(), null, "test:1");

    /// <summary>k = 1 draws what one negative per row always drew: Negatives[Mix(seed, epoch, row, 1) % count].</summary>
    [Fact]
    public void One_negative_per_row_is_the_old_draw()
    {
        var row = Row(5);
        for (int epoch = 0; epoch < 30; epoch++)
        {
            string old = row.Negatives[(int)(DeterministicHash.Mix(42, epoch, 3, 1) % 5)];
            Assert.Equal([old], row.DrawNegatives(42, epoch, 3, 1));
            Assert.Equal(old, row.Draw(42, epoch, 3).Negative);
        }
        Assert.Equal(["n0"], Row(1).DrawNegatives(1, 2, 3, 1));
        Assert.Empty(Row(0).DrawNegatives(1, 2, 3, 4));
    }

    [Fact]
    public void K_negatives_are_drawn_without_replacement_by_seed_and_repeated_when_the_row_has_fewer()
    {
        var row = Row(7);
        var seen = new HashSet<string>();
        for (int epoch = 0; epoch < 40; epoch++)
        {
            var draw = row.DrawNegatives(42, epoch, 5, 3);
            Assert.Equal(3, draw.Distinct().Count());
            Assert.Equal(draw, row.DrawNegatives(42, epoch, 5, 3));          // a pure function of seed, epoch, row
            Assert.Equal(draw[0], row.DrawNegatives(42, epoch, 5, 1)[0]);    // k = 1 is its first
            seen.UnionWith(draw);
        }
        Assert.Equal(7, seen.Count);
        Assert.NotEqual(row.DrawNegatives(42, 0, 5, 3), row.DrawNegatives(43, 0, 5, 3));

        var few = Row(2).DrawNegatives(42, 0, 0, 5);                         // 2 negatives, k = 5: both, then again in the same order
        Assert.Equal(5, few.Count);
        Assert.Equal(["n0", "n1"], few.Take(2).Order());
        Assert.Equal(few.Take(2).Concat(few.Take(2)).Append(few[0]), few);
        Assert.Equal(["n0", "n0", "n0"], Row(1).DrawNegatives(42, 0, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => row.DrawNegatives(42, 0, 0, 0));
    }
}
