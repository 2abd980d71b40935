namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Mini-batch k-means as MTEB runs it (<c>sklearn.cluster.MiniBatchKMeans(n_clusters=k, batch_size=500, n_init="auto")</c>,
/// whose defaults give one k-means++ initialisation, <c>max_iter</c> = 100 and <c>max_no_improvement</c> = 10):
/// <list type="number">
/// <item>k-means++ (greedy: 2 + ⌊ln k⌋ candidates per new centre, the one that lowers the potential most) on
/// min(3·batch, N) points drawn with replacement;</item>
/// <item>⌊100·N / batch⌋ steps, each on <c>batch</c> points drawn with replacement: assign each to its nearest centre, then
/// move each centre to the running mean of every point it was ever given (per-centre counts);</item>
/// <item>stop early when the exponentially weighted batch inertia (α = 2·batch / (N + 1), at most 1) has not improved for
/// 10 steps;</item>
/// <item>the labels: each point's nearest final centre (ties: the lowest index).</item>
/// </list>
/// Differences from scikit-learn: the random numbers come from .NET's seeded <see cref="Random"/>, not numpy's, so a
/// seed picks other batches; scikit-learn also moves centres that received under 1% of the largest count to random
/// points every 10 + min(count) steps, which this does not.
/// </summary>
public static class MiniBatchKMeans
{
    public const int BatchSize = 500, MaxIterations = 100, MaxNoImprovement = 10;

    public static int[] Cluster(IReadOnlyList<float[]> points, int k, int seed, int batchSize = BatchSize)
    {
        int n = points.Count;
        if (k < 1 || k > n) throw new ArgumentException($"k-means with k = {k} needs 1 to {n} clusters ({n} points).");
        var random = new Random(seed);
        int initSize = Math.Min(3 * batchSize, n);
        var initPoints = Enumerable.Range(0, initSize).Select(_ => points[random.Next(n)]).ToList();
        var centers = KMeansPlusPlus(initPoints, k, random);
        var counts = new double[k];
        int batch = Math.Min(batchSize, n);
        long steps = (long)MaxIterations * n / batch;
        double alpha = Math.Min(1.0, 2.0 * batch / (n + 1)), ewa = double.NaN, best = double.PositiveInfinity;
        int noImprovement = 0;
        var sums = new double[k][];
        for (long step = 0; step < steps; step++)
        {
            for (int c = 0; c < k; c++) sums[c] = new double[centers[c].Length];
            var given = new int[k];
            double inertia = 0;
            for (int b = 0; b < batch; b++)
            {
                var x = points[random.Next(n)];
                var (nearest, distance) = Nearest(x, centers);
                inertia += distance;
                given[nearest]++;
                for (int j = 0; j < x.Length; j++) sums[nearest][j] += x[j];
            }
            for (int c = 0; c < k; c++)
            {
                if (given[c] == 0) continue;
                double total = counts[c] + given[c];
                for (int j = 0; j < centers[c].Length; j++) centers[c][j] = (centers[c][j] * counts[c] + sums[c][j]) / total;
                counts[c] = total;
            }
            inertia /= batch;
            ewa = double.IsNaN(ewa) ? inertia : ewa * (1 - alpha) + inertia * alpha;
            if (ewa < best) { best = ewa; noImprovement = 0; }
            else if (++noImprovement >= MaxNoImprovement) break;
        }
        return points.Select(p => Nearest(p, centers).Index).ToArray();
    }

    private static double[][] KMeansPlusPlus(IReadOnlyList<float[]> points, int k, Random random)
    {
        int n = points.Count, trials = 2 + (int)Math.Log(k);
        var centers = new List<double[]> { points[random.Next(n)].Select(v => (double)v).ToArray() };
        var closest = points.Select(p => Distance(p, centers[0])).ToArray();
        while (centers.Count < k)
        {
            double potential = closest.Sum();
            int bestCandidate = -1;
            double bestPotential = double.PositiveInfinity;
            double[]? bestClosest = null;
            for (int t = 0; t < trials; t++)
            {
                int candidate = Sample(closest, potential, random);
                var candidatePoint = points[candidate].Select(v => (double)v).ToArray();
                var updated = points.Select((p, i) => Math.Min(closest[i], Distance(p, candidatePoint))).ToArray();
                double sum = updated.Sum();
                if (sum < bestPotential) (bestCandidate, bestPotential, bestClosest) = (candidate, sum, updated);
            }
            centers.Add(points[bestCandidate].Select(v => (double)v).ToArray());
            closest = bestClosest!;
        }
        return centers.ToArray();
    }

    /// <summary>An index drawn with probability proportional to its weight (uniform when all weights are 0).</summary>
    private static int Sample(double[] weights, double total, Random random)
    {
        if (total <= 0) return random.Next(weights.Length);
        double target = random.NextDouble() * total, running = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            running += weights[i];
            if (running > target) return i;
        }
        return weights.Length - 1;
    }

    private static (int Index, double Distance) Nearest(float[] x, double[][] centers)
    {
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int c = 0; c < centers.Length; c++)
        {
            double d = Distance(x, centers[c]);
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return (best, bestDistance);
    }

    private static double Distance(float[] x, double[] center)
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double d = x[j] - center[j];
            sum += d * d;
        }
        return sum;
    }
}
