namespace Trainer.Inference;

/// <summary>
/// The vector lengths a model serves: its full hidden size and the Matryoshka dims it was trained with
/// (<c>loss.matryoshka_dims</c>, written to an export's <c>embedding_config.json</c>). A shorter vector is the full one
/// cut to its first d components and L2-normalised again, as the loss trained it (<see cref="Losses.InfoNceLoss"/>);
/// any other length is refused, since a cut the model was not trained for ranks worse, silently.
/// </summary>
/// <param name="Full">The hidden size.</param>
/// <param name="Matryoshka">The trained Matryoshka dims, or null for none.</param>
public sealed record EmbeddingDimensions(int Full, IReadOnlyList<int>? Matryoshka)
{
    /// <summary>Every length allowed, largest first: the full size and the Matryoshka dims.</summary>
    public IReadOnlyList<int> Allowed => [.. new[] { Full }.Concat(Matryoshka ?? []).Distinct().OrderDescending()];

    /// <summary>Null when <paramref name="requested"/> is allowed; otherwise a sentence that names the allowed lengths.</summary>
    public string? Problem(int requested) => Allowed.Contains(requested)
        ? null
        : $"dimensions = {requested} is not supported by this model; allowed: {string.Join(", ", Allowed)} " +
          (Matryoshka is null ? "(its full size: it was trained without loss.matryoshka_dims)." : "(its full size and the Matryoshka dims it was trained with).");

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="option"/> when <paramref name="requested"/> is not allowed.</summary>
    public void Check(int? requested, string option)
    {
        if (requested is int d && Problem(d) is { } problem) throw new ArgumentException($"{option}: {problem}");
    }

    /// <summary>The first <paramref name="d"/> components, L2-normalised again (norm in double); the vector itself at its full length.</summary>
    public static float[] Truncate(float[] vector, int d)
    {
        if (d == vector.Length) return vector;
        if (d < 1 || d > vector.Length) throw new ArgumentOutOfRangeException(nameof(d), d, $"A vector of {vector.Length} cannot be cut to {d}.");
        double sum = 0;
        for (int i = 0; i < d; i++) sum += (double)vector[i] * vector[i];
        double norm = Math.Max(Math.Sqrt(sum), 1e-12); // F.normalize's eps
        var result = new float[d];
        for (int i = 0; i < d; i++) result[i] = (float)(vector[i] / norm);
        return result;
    }

    /// <summary><see cref="Truncate(float[], int)"/> on every row; the rows themselves when <paramref name="d"/> is null.</summary>
    public static float[][] Truncate(float[][] vectors, int? d) => d is int n ? vectors.Select(v => Truncate(v, n)).ToArray() : vectors;
}
