using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Losses;

/// <summary>
/// InfoNCE over cosine similarity, as in e5-mistral. For N queries, N positives and M hard negatives (M may be 0),
/// every query scores the same candidate list <c>[positives; negatives]</c> (N + M rows), and the target of query i
/// is candidate i, its own positive; the other positives act as in-batch negatives. With k hard negatives per row
/// the negatives come row-major (row 0's k, then row 1's k, ...; see <see cref="Training.ContrastiveBatch"/>), so
/// N + M = B + B·k; nothing here assumes M = N.
///
///     logits = (q · cᵀ) / temperature        q [N, H], c [N + M, H], all L2-normalised, so q · c is the cosine
///     loss   = mean_i  −log softmax(logits_i)[i]
///
/// The temperature divides the cosine (0.02 in the paper, i.e. a scale of 50).
/// </summary>
public static class InfoNceLoss
{
    /// <param name="queries">[N, H], unit norm.</param>
    /// <param name="positives">[N, H], unit norm; row i belongs to query i.</param>
    /// <param name="negatives">[M, H], unit norm, or null for none.</param>
    public static Tensor Compute(Tensor queries, Tensor positives, Tensor? negatives, double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The InfoNCE temperature must be a finite number > 0.");
        if (queries.shape[0] != positives.shape[0])
            throw new ArgumentException($"InfoNCE needs one positive per query: {queries.shape[0]} queries, {positives.shape[0]} positives.");
        using var scope = NewDisposeScope();
        using var temperatureScalar = temperature.ToScalar();
        using var zero = 0.ToScalar();
        using var count = queries.shape[0].ToScalar();
        using var one = 1.ToScalar();
        var candidates = negatives is null || negatives.shape[0] == 0 ? positives : cat([positives, negatives], 0); // [N + M, H]
        var logits = queries.matmul(candidates.t()) / temperatureScalar;                                           // [N, N + M]
        var targets = arange(zero, count, one, ScalarType.Int64, queries.device);                                  // [N]
        return nn.functional.cross_entropy(logits, targets).MoveToOuterDisposeScope();
    }
}
