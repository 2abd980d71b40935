namespace Trainer.Losses;

/// <summary>
/// How <see cref="InfoNceLoss"/> scores a batch: the temperature that divides the cosine, the false-negative margin
/// (cosine units; null = off) and the Matryoshka dimensions with their weights (null = the full embedding only;
/// weights null = all 1). Built from the config's <c>loss.*</c> keys.
/// </summary>
public sealed record InfoNceOptions(double Temperature, double? FalseNegativeMargin = null, IReadOnlyList<int>? MatryoshkaDims = null,
    IReadOnlyList<double>? MatryoshkaWeights = null);
