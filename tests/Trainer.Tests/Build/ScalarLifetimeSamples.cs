using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Tests.Build;

/// <summary>
/// Code that <see cref="ScalarLifetimeTests"/> scans to show the check tells held Scalars from unheld ones, also where
/// the compiler moves the code into generated types. Never run.
/// </summary>
internal static class ScalarLifetimeSamples
{
    public static Tensor Implicit(Tensor x) => x.pow(2);

    public static Tensor Inline(Tensor x) => x.pow(2.ToScalar());

    public static Tensor NotDisposed(Tensor x)
    {
        var two = 2.ToScalar(); // stored, but dead (and collectable) once pow has read its handle
        return x.pow(two);
    }

    public static Tensor Held(Tensor x)
    {
        using var two = 2.ToScalar();
        return x.pow(two);
    }

    public static Tensor HeldAcrossOperators(Tensor x, Tensor y)
    {
        using var half = 0.5.ToScalar();
        using var one = 1.ToScalar();
        return (x * half).add(y, alpha: one);
    }

    public static Tensor Operators(Tensor x, Tensor y) => x * 0.5 + y;

    public static Func<Tensor, Tensor> Lambda() => x => x.pow(2);

    public static Tensor LocalFunction(Tensor x)
    {
        return Square(x);

        static Tensor Square(Tensor t) => t.pow(2);
    }

    public static IEnumerable<Tensor> Iterator(IEnumerable<Tensor> xs)
    {
        foreach (var x in xs) yield return x.pow(2);
    }

    public static async Task<Tensor> Async(Tensor x)
    {
        await Task.Yield();
        return x.pow(2);
    }
}
