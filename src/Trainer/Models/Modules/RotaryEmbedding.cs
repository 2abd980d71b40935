using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>
/// Rotate-half rotary position embedding (HF layout): the first and second halves of each head are the two
/// coordinates of each rotated pair, with frequencies θ^(−2i/Dh), rescaled by <see cref="Llama3RopeScaling"/> when the
/// config asks for it.
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>cos and sin tables [S, Dh] for positions 0..S−1, computed in float32 and cast to <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(long sequenceLength, int headDim, double theta, ScalarType dtype, Device device,
        Llama3RopeScaling? scaling = null)
    {
        using var scope = NewDisposeScope();
        using var zero = 0.ToScalar();
        using var length = sequenceLength.ToScalar();
        using var one = 1.ToScalar();
        var invFreq = InverseFrequencies(headDim, theta, device, scaling);                      // [Dh/2]
        var positions = arange(zero, length, one, ScalarType.Int64, device).to(ScalarType.Float32);
        var freqs = outer(positions, invFreq);                                                  // [S, Dh/2]
        var angles = cat([freqs, freqs], -1);                                                   // [S, Dh]
        var cos = angles.cos().to(dtype).MoveToOuterDisposeScope();
        var sin = angles.sin().to(dtype).MoveToOuterDisposeScope();
        return (cos, sin);
    }

    /// <summary>
    /// θ^(−2i/Dh) for i = 0..Dh/2−1, float32 [Dh/2], then <paramref name="scaling"/>'s rescale if any: the one definition
    /// the model and the ONNX export share.
    /// </summary>
    public static Tensor InverseFrequencies(int headDim, double theta, Device? device = null, Llama3RopeScaling? scaling = null)
    {
        using var scope = NewDisposeScope();
        using var zero = 0.ToScalar();
        using var dims = headDim.ToScalar();
        using var two = 2.ToScalar();
        using var one = 1.0f.ToScalar();
        var exponents = arange(zero, dims, two, ScalarType.Int64, device).to(ScalarType.Float32) / dims;
        var frequencies = one / pow(tensor(theta, ScalarType.Float32, device), exponents);
        return (scaling is null ? frequencies : scaling.Rescale(frequencies)).MoveToOuterDisposeScope();
    }

    /// <summary>x [.., Dh] rotated by tables that broadcast to it (the model's: [T, 1, Dh] for x [T, N, Dh]).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        using var one = 1.ToScalar();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1); // rotate_half
        return (x * cos).add(rotated * sin, alpha: one).MoveToOuterDisposeScope();
    }
}
