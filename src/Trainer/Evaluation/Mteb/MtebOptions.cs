namespace Trainer.Evaluation.Mteb;

/// <summary>
/// The knobs MTEB's evaluators hold, at MTEB's defaults: classification's number of experiments and training samples
/// per label (<c>AbsTaskClassification</c>: 10 and 8), and the seed (MTEB's <c>AbsTask</c> seed, 42) that draws those
/// samples and the k-means batches.
/// </summary>
public sealed record MtebOptions
{
    public int Experiments { get; init; } = 10;
    public int SamplesPerLabel { get; init; } = 8;
    public int Seed { get; init; } = 42;

    /// <summary>The split classification trains its logistic regression on.</summary>
    public string TrainSplit { get; init; } = "train";

    public void Validate()
    {
        if (Experiments < 1) throw new ArgumentException($"the number of classification experiments must be at least 1 (got {Experiments}).");
        if (SamplesPerLabel < 1) throw new ArgumentException($"samples per label must be at least 1 (got {SamplesPerLabel}).");
    }
}
