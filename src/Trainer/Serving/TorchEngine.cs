using Trainer.Inference;
using Trainer.Models;

namespace Trainer.Serving;

/// <summary>
/// The TorchSharp model (a model folder, or a base model with a checkpoint's adapter) on CPU or CUDA, run through
/// <see cref="TextEmbedder"/>, the very path of <c>trainer embed</c>: each batch the batcher forms is one forward pass,
/// inside a <see cref="NoGcRegion"/> (which says why).
/// </summary>
public sealed class TorchEngine(EmbeddingDecoder model, string device) : IEmbeddingEngine
{
    public string Description => $"torch on {device}";

    public int Dimensions => model.Family.Config.HiddenSize;

    public float[][] Embed(IReadOnlyList<int[]> rows) => NoGcRegion.Run(() => new TextEmbedder(model, Math.Max(rows.Count, 1)).Embed(rows));

    public void Dispose() => model.Dispose();
}
