using Trainer.Evaluation;

namespace Trainer.Tests.Evaluation;

/// <summary>The guards' ceilings against hand-computed values (all chosen exact in binary, so the strict "&gt;" is tested at the edge).</summary>
public class FalseNegativeGuardTests
{
    [Theory]
    // absolute margin 0.25 with the positive at 0.75: ceiling 0.5
    [InlineData(0.25, null, null, 0.75, 0.5)]
    // relative margin 0.25 with the positive at 0.75: ceiling 0.75 × 0.75 = 0.5625
    [InlineData(null, 0.25, null, 0.75, 0.5625)]
    // max score 0.625, whatever the positive
    [InlineData(null, null, 0.625, 0.0, 0.625)]
    // all three: the lowest ceiling wins (0.875 − 0.5 = 0.375 against 0.875 × 0.5 = 0.4375 and 0.5)
    [InlineData(0.5, 0.5, 0.5, 0.875, 0.375)]
    // a negative positive score: the relative margin lifts the ceiling above it, as sentence-transformers' formula does
    [InlineData(null, 0.5, null, -0.5, -0.25)]
    public void A_candidate_is_skipped_when_it_scores_above_the_lowest_ceiling(double? absolute, double? relative, double? max, double positive, double ceiling)
    {
        var guard = new FalseNegativeGuard(absolute, relative, max);
        Assert.Equal(ceiling, guard.Ceiling(positive));
        Assert.False(guard.Skips(ceiling, positive));
        Assert.True(guard.Skips(ceiling + 1.0 / 1024, positive));
        Assert.False(guard.Skips(ceiling - 1.0 / 1024, positive));
        Assert.True(guard.IsOn);
        Assert.Equal(absolute is not null || relative is not null, guard.UsesPositiveScore);
    }

    [Fact]
    public void No_guard_skips_nothing()
    {
        var guard = new FalseNegativeGuard();
        Assert.False(guard.IsOn);
        Assert.Equal(double.PositiveInfinity, guard.Ceiling(0.5));
        Assert.False(guard.Skips(1.0, -1.0));
    }

    [Theory]
    [InlineData(-0.01, null, null, "--absolute-margin = -0.01 is invalid; give a cosine margin from 0 to 2, e.g. 0.05 (skip candidates scoring above the positive's score minus 0.05).")]
    [InlineData(2.5, null, null, "--absolute-margin = 2.5 is invalid; give a cosine margin from 0 to 2, e.g. 0.05 (skip candidates scoring above the positive's score minus 0.05).")]
    [InlineData(double.NaN, null, null, "--absolute-margin = NaN is invalid; give a cosine margin from 0 to 2, e.g. 0.05 (skip candidates scoring above the positive's score minus 0.05).")]
    [InlineData(null, 1.5, null, "--relative-margin = 1.5 is invalid; give a fraction from 0 to 1, e.g. 0.05 (skip candidates scoring above 95% of the positive's score).")]
    [InlineData(null, -0.1, null, "--relative-margin = -0.1 is invalid; give a fraction from 0 to 1, e.g. 0.05 (skip candidates scoring above 95% of the positive's score).")]
    [InlineData(null, null, 1.01, "--max-score = 1.01 is invalid; give a cosine from -1 to 1, e.g. 0.9 (skip candidates scoring above 0.9).")]
    [InlineData(null, null, -2.0, "--max-score = -2 is invalid; give a cosine from -1 to 1, e.g. 0.9 (skip candidates scoring above 0.9).")]
    public void Out_of_range_guards_are_refused_with_the_range(double? absolute, double? relative, double? max, string message)
    {
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => new FalseNegativeGuard(absolute, relative, max).Validate()).Message);
        new FalseNegativeGuard(0, 0, -1).Validate();
        new FalseNegativeGuard(2, 1, 1).Validate();
    }
}
