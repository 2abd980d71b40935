using TorchSharp.Modules;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary>The device-side clipping computes what libtorch's clip_grad_norm_ does, without reading the norm on the host.</summary>
public class GradientClippingTests
{
    private static List<Parameter> Parameters(float scale, bool nan = false)
    {
        using var generator = new Generator(9);
        var shapes = new long[][] { [16, 64], [172, 16], [3], [5, 5] };
        return shapes.Select((shape, i) =>
        {
            var p = new Parameter(zeros(shape));
            var g = randn(shape, generator: generator) * scale;
            if (nan && i == 2) g[1] = tensor(float.NaN);
            p.grad = g;
            return p;
        }).ToList();
    }

    [Theory]
    [InlineData(1.0f, 0.5)]  // norm ≈ 40: clipped
    [InlineData(0.01f, 1.0)] // norm ≈ 0.4: untouched
    public void Equals_libtorch_clip_grad_norm(float scale, double maxNorm)
    {
        var expected = Parameters(scale);
        var actual = Parameters(scale);
        double libtorchNorm = nn.utils.clip_grad_norm_(expected, maxNorm);
        using var norm = GradientClipping.ClipByGlobalNorm(actual, maxNorm);
        Assert.Equal(ScalarType.Float32, norm.dtype);
        Assert.Equal((float)libtorchNorm, norm.item<float>());
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].grad!.eq(actual[i].grad!).all().item<bool>(), $"gradient {i}");
        if (scale == 1.0f)
        {
            using var after = GradientClipping.ClipByGlobalNorm(actual, null);
            Assert.True(Math.Abs(after.item<float>() - maxNorm) <= 1e-5, $"clipped norm {after.item<float>()}");
        }
    }

    [Fact]
    public void Without_a_limit_the_gradients_are_untouched_and_the_norm_is_measured()
    {
        var parameters = Parameters(1.0f);
        var copies = parameters.Select(p => p.grad!.clone()).ToList();
        using var norm = GradientClipping.ClipByGlobalNorm(parameters, null);
        double expected = Math.Sqrt(copies.Sum(g => g.pow(2).sum().item<float>()));
        Assert.True(Math.Abs(norm.item<float>() - expected) <= 1e-4 * expected, $"{norm.item<float>()} vs {expected}");
        for (int i = 0; i < copies.Count; i++) Assert.True(parameters[i].grad!.eq(copies[i]).all().item<bool>());
    }

    [Fact]
    public void A_nan_gradient_gives_a_nan_norm()
    {
        using var norm = GradientClipping.ClipByGlobalNorm(Parameters(1.0f, nan: true), 1.0);
        Assert.True(float.IsNaN(norm.item<float>()));
    }

    [Fact]
    public void No_gradient_gives_zero()
    {
        var parameters = new List<Parameter> { new(zeros(3)) };
        using var norm = GradientClipping.ClipByGlobalNorm(parameters, 1.0);
        Assert.Equal(0f, norm.item<float>());
    }
}
