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
///     s      = q · cᵀ                                q [N, H], c [N + M, H], all L2-normalised, so s is the cosine
///     logits = s / temperature                       [N, N + M]
///     loss   = mean_i  −log softmax(logits_i)[i]
///
/// The temperature divides the cosine (0.02 in the paper, i.e. a scale of 50).
///
/// Two options (<see cref="InfoNceOptions"/>):
/// - False-negative filter (GTE, Qwen3-Embedding): candidate j ≠ i with s_ij &gt; s_ii + margin is masked out of row
///   i's softmax (its logit becomes −∞, so its probability and its gradient are exactly zero). The margin is in cosine
///   units, compared before the temperature divides, as Qwen3-Embedding writes its mask (s(q, d) &gt; s(q, d⁺) + 0.1).
///   The mask is decided once, without a gradient, on the full embeddings' cosines, and shared by every Matryoshka
///   dimension: whether a document answers a query is not a property of a truncation.
/// - Matryoshka (sentence-transformers' MatryoshkaLoss): for each d in dims, the embeddings truncated to their first d
///   components and L2-normalised again, the full size included (as sentence-transformers does; on unit-norm input that
///   changes the value by rounding only, and the gradient by its radial part, which the pooling's own normalisation
///   removes); loss = Σ_d weight_d · InfoNCE_d.
/// </summary>
public static class InfoNceLoss
{
    /// <param name="queries">[N, H], unit norm.</param>
    /// <param name="positives">[N, H], unit norm; row i belongs to query i.</param>
    /// <param name="negatives">[M, H], unit norm, or null for none.</param>
    public static Tensor Compute(Tensor queries, Tensor positives, Tensor? negatives, double temperature)
    {
        using var scope = NewDisposeScope();
        var (loss, _) = Compute(queries, positives, negatives, new InfoNceOptions(temperature));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The loss with <paramref name="options"/>, and how many candidates the false-negative filter masked in all
    /// (a float32 scalar; 0 with the filter off). Both in the caller's dispose scope; the count has no graph.
    /// </summary>
    public static (Tensor Loss, Tensor Masked) Compute(Tensor queries, Tensor positives, Tensor? negatives, InfoNceOptions options)
    {
        double temperature = options.Temperature;
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(options), temperature, "The InfoNCE temperature must be a finite number > 0.");
        if (queries.shape[0] != positives.shape[0])
            throw new ArgumentException($"InfoNCE needs one positive per query: {queries.shape[0]} queries, {positives.shape[0]} positives.");
        long hidden = queries.shape[1];
        bool matryoshka = options.MatryoshkaDims is not null;
        var dims = options.MatryoshkaDims ?? [(int)hidden];
        foreach (var d in dims)
            if (d < 1 || d > hidden) throw new ArgumentException($"Matryoshka dimension {d} is outside 1..{hidden} (the embedding size).");
        using var scope = NewDisposeScope();
        using var temperatureScalar = temperature.ToScalar();
        using var zero = 0.ToScalar();
        using var count = queries.shape[0].ToScalar();
        using var one = 1.ToScalar();
        var candidates = negatives is null || negatives.shape[0] == 0 ? positives : cat([positives, negatives], 0); // [N + M, H]
        var targets = arange(zero, count, one, ScalarType.Int64, queries.device);                                  // [N]
        var mask = options.FalseNegativeMargin is double margin ? FalseNegatives(queries, candidates, targets, margin) : null; // [N, N + M] bool
        Tensor? loss = null;
        for (int i = 0; i < dims.Count; i++)
        {
            var (q, c) = matryoshka ? (Truncate(queries, dims[i]), Truncate(candidates, dims[i])) : (queries, candidates); // [N, d], [N + M, d]
            var logits = q.matmul(c.t()) / temperatureScalar;                                 // [N, N + M]
            if (mask is not null)
            {
                using var minusInfinity = float.NegativeInfinity.ToScalar();
                logits = logits.masked_fill(mask, minusInfinity);
            }
            var term = nn.functional.cross_entropy(logits, targets);                          // []
            if (options.MatryoshkaWeights is { } weights)
            {
                using var weight = weights[i].ToScalar();
                term = term.mul(weight);
            }
            loss = loss is null ? term : loss.add(term, alpha: one);
        }
        var masked = mask is null ? zeros([], ScalarType.Float32, queries.device) : mask.sum().to(ScalarType.Float32);
        return (loss!.MoveToOuterDisposeScope(), masked.MoveToOuterDisposeScope());
    }

    /// <summary>[N, N + M] true where candidate j ≠ i scores above the row's own positive + margin (cosines, no gradient).</summary>
    private static Tensor FalseNegatives(Tensor queries, Tensor candidates, Tensor targets, double margin)
    {
        using var noGrad = no_grad();
        using var marginScalar = margin.ToScalar();
        using var one = 1.ToScalar();
        var scores = queries.detach().matmul(candidates.detach().t());                        // [N, N + M]
        var positive = scores.gather(1, targets.unsqueeze(1)).add(marginScalar, alpha: one); // [N, 1]
        var own = nn.functional.one_hot(targets, candidates.shape[0]).to(ScalarType.Bool); // [N, N + M]
        return scores.gt(positive).logical_and(own.logical_not());               // never the own positive
    }

    /// <summary>The first <paramref name="d"/> components, L2-normalised again.</summary>
    private static Tensor Truncate(Tensor embeddings, int d) => nn.functional.normalize(embeddings.narrow(1, 0, d), p: 2, dim: 1);
}
