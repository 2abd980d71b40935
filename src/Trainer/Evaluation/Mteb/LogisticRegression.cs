using static TorchSharp.torch;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// L2-regularised logistic regression fitted by L-BFGS, standing in for MTEB's
/// <c>sklearn.linear_model.LogisticRegression(max_iter=100)</c> (lbfgs solver, C = 1, intercept fitted and not penalised).
/// As scikit-learn does: two classes fit one weight vector with the logistic loss; more fit the multinomial
/// (softmax) loss with one vector per class; the objective is the mean loss plus ‖W‖² / (2·C·n) (the same minimiser as
/// C·Σ loss + ½‖W‖²); it stops after <see cref="MaxIterations"/> iterations, when the largest gradient component falls to
/// <see cref="GradientTolerance"/> (scipy's <c>pgtol</c>, which scikit-learn sets to its <c>tol</c> = 1e-4), or when the
/// objective's relative decrease falls to 64·ε (scikit-learn's <c>ftol</c>).
/// <para>
/// The loss and its gradient are computed in TorchSharp, float64 (features [N, D+1] with a column of ones for the
/// intercept, weights [K, D+1]); the L-BFGS update (10 correction pairs, scipy's default) runs on the host. What differs
/// from scipy's L-BFGS-B: the line search is a backtracking Armijo search (c₁ = 1e-4) from a unit step (the first
/// iteration from 1/‖g‖₁), not Moré–Thuente, so the iterates differ and an unconverged fit (100 iterations reached) ends
/// at a slightly different point; a converged one reaches the same optimum.
/// </para>
/// </summary>
public sealed class LogisticRegression
{
    public const int MaxIterations = 100, History = 10;
    public const double GradientTolerance = 1e-4, C = 1.0;
    private const double MachineEpsilon = 2.220446049250313e-16; // numpy's float64 eps

    private readonly string[] _classes;
    private readonly double[] _weights; // [K, D+1] row-major; K = 1 for two classes
    private readonly int _width;        // D + 1

    private LogisticRegression(string[] classes, double[] weights, int width) => (_classes, _weights, _width) = (classes, weights, width);

    /// <summary>The classes in scikit-learn's order (sorted: numerically when every label is a number, else ordinally).</summary>
    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Iterations the fit took.</summary>
    public int Iterations { get; private init; }

    /// <summary>The fitted weights: per row (one for two classes, else one per class) D coefficients then the intercept.</summary>
    public IReadOnlyList<double> Weights => _weights;

    public static LogisticRegression Fit(IReadOnlyList<float[]> features, IReadOnlyList<string> labels)
    {
        if (features.Count != labels.Count || features.Count == 0) throw new ArgumentException($"{features.Count} feature rows against {labels.Count} labels.");
        var classes = SortClasses(labels.Distinct());
        if (classes.Length < 2) throw new ArgumentException($"logistic regression needs at least two classes; the training labels hold only \"{classes[0]}\".");
        int n = features.Count, width = features[0].Length + 1, rows = classes.Length == 2 ? 1 : classes.Length;
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var target = labels.Select(l => index[l]).ToArray();

        using var scope = NewDisposeScope();
        using var x = Design(features);                                        // [N, D+1]
        var objective = new Objective(x, target, rows, width, n);
        var theta = new double[rows * width];
        var (value, gradient) = objective.Evaluate(theta);
        var steps = new List<(double[] S, double[] Y, double Rho)>();
        int iteration = 0;
        while (iteration < MaxIterations && MaxAbs(gradient) > GradientTolerance)
        {
            iteration++;
            var direction = Direction(gradient, steps);
            double slope = Dot(direction, gradient);
            if (slope >= 0) // not a descent direction (a poor curvature pair): restart from steepest descent
            {
                steps.Clear();
                direction = gradient.Select(g => -g).ToArray();
                slope = Dot(direction, gradient);
            }
            double step = iteration == 1 ? Math.Min(1.0, 1.0 / gradient.Sum(Math.Abs)) : 1.0;
            double[] next;
            double nextValue;
            double[] nextGradient;
            int halvings = 0;
            while (true)
            {
                next = theta.Select((t, i) => t + step * direction[i]).ToArray();
                (nextValue, nextGradient) = objective.Evaluate(next);
                if (nextValue <= value + 1e-4 * step * slope || ++halvings > 40) break;
                step /= 2;
            }
            var s = next.Select((t, i) => t - theta[i]).ToArray();
            var y = nextGradient.Select((g, i) => g - gradient[i]).ToArray();
            double sy = Dot(s, y);
            if (sy > 1e-10)
            {
                steps.Add((s, y, 1 / sy));
                if (steps.Count > History) steps.RemoveAt(0);
            }
            double decrease = (value - nextValue) / Math.Max(Math.Max(Math.Abs(value), Math.Abs(nextValue)), 1.0);
            (theta, value, gradient) = (next, nextValue, nextGradient);
            if (decrease <= 64 * MachineEpsilon) break;
        }
        return new LogisticRegression(classes, theta, width) { Iterations = iteration };
    }

    /// <summary>The predicted class of each row: the largest score (ties: the first class, as numpy's argmax).</summary>
    public IReadOnlyList<string> Predict(IReadOnlyList<float[]> features)
    {
        using var scope = NewDisposeScope();
        using var x = Design(features);
        int rows = _weights.Length / _width;
        using var w = tensor(_weights, [rows, _width], ScalarType.Float64);
        var scores = x.matmul(w.t()).data<double>().ToArray();              // [N, rows]
        var predicted = new string[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            if (rows == 1) { predicted[i] = _classes[scores[i] > 0 ? 1 : 0]; continue; }
            int best = 0;
            for (int k = 1; k < rows; k++) if (scores[i * rows + k] > scores[i * rows + best]) best = k;
            predicted[i] = _classes[best];
        }
        return predicted;
    }

    /// <summary>Labels sorted as numpy's <c>np.unique</c> sorts them: numerically when all are numbers, else ordinally.</summary>
    public static string[] SortClasses(IEnumerable<string> labels)
    {
        var distinct = labels.Distinct(StringComparer.Ordinal).ToArray();
        bool numeric = distinct.All(l => double.TryParse(l, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
        return numeric
            ? distinct.OrderBy(l => double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : distinct.OrderBy(l => l, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Rows → [N, D+1] float64 with a last column of ones.</summary>
    private static Tensor Design(IReadOnlyList<float[]> features)
    {
        int d = features[0].Length;
        var flat = new double[features.Count * (d + 1)];
        for (int i = 0; i < features.Count; i++)
        {
            if (features[i].Length != d) throw new ArgumentException($"feature row {i} has {features[i].Length} values, the first {d}.");
            for (int j = 0; j < d; j++) flat[i * (d + 1) + j] = features[i][j];
            flat[i * (d + 1) + d] = 1;
        }
        return tensor(flat, [features.Count, d + 1], ScalarType.Float64);
    }

    /// <summary>L-BFGS's two-loop recursion: −H·g with H₀ = (s·y / y·y) I from the newest pair.</summary>
    private static double[] Direction(double[] gradient, List<(double[] S, double[] Y, double Rho)> steps)
    {
        var q = (double[])gradient.Clone();
        var alpha = new double[steps.Count];
        for (int k = steps.Count - 1; k >= 0; k--)
        {
            alpha[k] = steps[k].Rho * Dot(steps[k].S, q);
            for (int i = 0; i < q.Length; i++) q[i] -= alpha[k] * steps[k].Y[i];
        }
        if (steps.Count > 0)
        {
            var (s, y, _) = steps[^1];
            double gamma = Dot(s, y) / Dot(y, y);
            for (int i = 0; i < q.Length; i++) q[i] *= gamma;
        }
        for (int k = 0; k < steps.Count; k++)
        {
            double beta = steps[k].Rho * Dot(steps[k].Y, q);
            for (int i = 0; i < q.Length; i++) q[i] += (alpha[k] - beta) * steps[k].S[i];
        }
        for (int i = 0; i < q.Length; i++) q[i] = -q[i];
        return q;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double MaxAbs(double[] a) => a.Max(Math.Abs);

    /// <summary>
    /// The objective and its gradient at θ [K, D+1]: mean loss + ‖W‖² / (2Cn), the intercept column unpenalised.
    /// Two classes (K = 1): loss = −log σ(y·z), y = ±1, z = x·θ; more: loss = −log softmax(x·θᵀ)[target].
    /// </summary>
    private sealed class Objective
    {
        private readonly Tensor _x;
        private readonly int _rows, _width, _n;
        private readonly Tensor _sign;     // [N, 1] ±1 (two classes)
        private readonly Tensor _index;    // [N, 1] int64 targets (more)
        private readonly double[] _targetSums; // Σ_{i: target k} x_i, [K, D+1] (more)

        public Objective(Tensor x, int[] target, int rows, int width, int n)
        {
            (_x, _rows, _width, _n) = (x, rows, width, n);
            _sign = tensor(target.Select(t => t == 1 ? 1.0 : -1.0).ToArray(), [n, 1], ScalarType.Float64);
            _index = tensor(target.Select(t => (long)t).ToArray(), [n, 1], ScalarType.Int64);
            var host = x.data<double>().ToArray();
            _targetSums = new double[rows * width];
            if (rows > 1)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < width; j++) _targetSums[target[i] * width + j] += host[i * width + j];
        }

        public (double Value, double[] Gradient) Evaluate(double[] theta)
        {
            using var scope = NewDisposeScope();
            using var w = tensor(theta, [_rows, _width], ScalarType.Float64);
            var z = _x.matmul(w.t());                                             // [N, K]
            double loss;
            double[] gradient;
            if (_rows == 1)
            {
                var margin = z.mul(_sign);                                        // [N, 1] y·z
                loss = -nn.functional.logsigmoid(margin).sum().item<double>();
                var weight = margin.neg().sigmoid().mul(_sign);                   // [N, 1] y·σ(−y·z) = −∂loss/∂z
                gradient = weight.t().matmul(_x).data<double>().ToArray();        // [1, D+1]
                for (int j = 0; j < gradient.Length; j++) gradient[j] = -gradient[j];
            }
            else
            {
                var logp = z.log_softmax(1);                                      // [N, K]
                loss = -logp.gather(1, _index).sum().item<double>();
                gradient = logp.exp().t().matmul(_x).data<double>().ToArray();    // [K, D+1] Σ p·x
                for (int j = 0; j < gradient.Length; j++) gradient[j] -= _targetSums[j];
            }
            double penalty = 0;
            for (int k = 0; k < _rows; k++)
            {
                for (int j = 0; j < _width; j++)
                {
                    int at = k * _width + j;
                    gradient[at] /= _n;
                    if (j == _width - 1) continue; // the intercept is not penalised
                    penalty += theta[at] * theta[at];
                    gradient[at] += theta[at] / (C * _n);
                }
            }
            return (loss / _n + penalty / (2 * C * _n), gradient);
        }
    }
}
