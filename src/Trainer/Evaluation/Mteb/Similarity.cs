namespace Trainer.Evaluation.Mteb;

/// <summary>The pairwise scores MTEB computes between embeddings, in float64 over float32 vectors.</summary>
public static class Similarity
{
    public static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    public static double Cosine(float[] a, float[] b)
    {
        double norms = Math.Sqrt(Dot(a, a)) * Math.Sqrt(Dot(b, b));
        return norms == 0 ? 0 : Dot(a, b) / norms;
    }

    public static double Euclidean(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        return Math.Sqrt(sum);
    }

    public static double Manhattan(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += Math.Abs((double)a[i] - b[i]);
        return sum;
    }
}
