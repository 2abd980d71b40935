using System.Globalization;

namespace Trainer.Evaluation;

/// <summary>
/// sentence-transformers' false-negative guards of <c>mine_hard_negatives</c>: a candidate whose cosine score to the
/// query is too close to (or above) the positive's is more likely an unlabelled positive than a negative, so it is
/// skipped. Each guard that is set gives a ceiling; a candidate scoring above the lowest one is skipped:
/// <list type="bullet">
/// <item><see cref="AbsoluteMargin"/> X: skipped when score &gt; positive − X;</item>
/// <item><see cref="RelativeMargin"/> X: skipped when score &gt; positive × (1 − X) (0.05: at most 95% of the positive's score);</item>
/// <item><see cref="MaxScore"/> X: skipped when score &gt; X, whatever the positive.</item>
/// </list>
/// All are off by default (null). The positive's score is given by the caller (see <see cref="HardNegativeMiner"/>).
/// </summary>
public sealed record FalseNegativeGuard(double? AbsoluteMargin = null, double? RelativeMargin = null, double? MaxScore = null)
{
    /// <summary>Whether a ceiling depends on the positive's score (so the positives must be embedded and scored).</summary>
    public bool UsesPositiveScore => AbsoluteMargin is not null || RelativeMargin is not null;

    /// <summary>Whether any guard is set.</summary>
    public bool IsOn => UsesPositiveScore || MaxScore is not null;

    /// <summary>The highest score a candidate may have and still be a negative (+∞ when no guard is set).</summary>
    public double Ceiling(double positiveScore)
    {
        double ceiling = double.PositiveInfinity;
        if (MaxScore is { } max) ceiling = Math.Min(ceiling, max);
        if (AbsoluteMargin is { } absolute) ceiling = Math.Min(ceiling, positiveScore - absolute);
        if (RelativeMargin is { } relative) ceiling = Math.Min(ceiling, positiveScore * (1 - relative));
        return ceiling;
    }

    /// <summary>Whether a candidate scoring <paramref name="score"/> is skipped for a positive scoring <paramref name="positiveScore"/>.</summary>
    public bool Skips(double score, double positiveScore) => score > Ceiling(positiveScore);

    public void Validate()
    {
        if (AbsoluteMargin is { } absolute && !(absolute >= 0 && absolute <= 2))
            throw new ArgumentException($"--absolute-margin = {Text(absolute)} is invalid; give a cosine margin from 0 to 2, e.g. 0.05 (skip candidates scoring above the positive's score minus 0.05).");
        if (RelativeMargin is { } relative && !(relative >= 0 && relative <= 1))
            throw new ArgumentException($"--relative-margin = {Text(relative)} is invalid; give a fraction from 0 to 1, e.g. 0.05 (skip candidates scoring above 95% of the positive's score).");
        if (MaxScore is { } max && !(max >= -1 && max <= 1))
            throw new ArgumentException($"--max-score = {Text(max)} is invalid; give a cosine from -1 to 1, e.g. 0.9 (skip candidates scoring above 0.9).");
    }

    /// <summary>The guards that are set, as the log shows them.</summary>
    public string Describe() => string.Join(", ", new[]
    {
        AbsoluteMargin is { } a ? $"score > positive - {Text(a)}" : null,
        RelativeMargin is { } r ? $"score > positive * (1 - {Text(r)})" : null,
        MaxScore is { } m ? $"score > {Text(m)}" : null,
    }.OfType<string>());

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
