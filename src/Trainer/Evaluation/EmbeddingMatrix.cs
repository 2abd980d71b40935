using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Evaluation;

/// <summary>Embeddings (rows of equal width) as one [N, H] tensor, for the evaluators' and the miner's matmuls.</summary>
public static class EmbeddingMatrix
{
    /// <summary>[N, H] of <paramref name="dtype"/> on the CPU (N may be 0).</summary>
    public static Tensor From(IReadOnlyList<float[]> rows, ScalarType dtype = ScalarType.Float32)
    {
        int width = rows.Count == 0 ? 0 : rows[0].Length;
        var flat = new float[rows.Count * width];
        for (int r = 0; r < rows.Count; r++) rows[r].CopyTo(flat, r * width);
        var host = tensor(flat, [rows.Count, width]);
        if (dtype == ScalarType.Float32) return host;
        using (host) return host.to(dtype);
    }

    /// <summary>[N, H] float32 on <paramref name="device"/>.</summary>
    public static Tensor From(IReadOnlyList<float[]> rows, Device device)
    {
        var host = From(rows);
        if (device.type == DeviceType.CPU) return host;
        using (host) return host.to(device);
    }
}
