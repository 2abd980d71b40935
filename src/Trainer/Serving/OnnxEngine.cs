using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Serving;

/// <summary>
/// An export's <c>model.onnx</c> in ONNX Runtime on the CPU. Batches are right-padded as <see cref="EmbeddingPass"/> pads
/// them (<see cref="PaddedBatch"/>, with the EOS id) and the model's own <c>sentence_embedding</c> output (last-token
/// pooled, L2-normalised) is the result.
/// </summary>
public sealed class OnnxEngine : IEmbeddingEngine
{
    private const string EmbeddingOutput = "sentence_embedding";
    private readonly InferenceSession _session;
    private readonly int _padId;

    /// <param name="threads">ONNX Runtime's intra-op threads; null: its default (one per physical core).</param>
    public OnnxEngine(string onnxPath, IDecoderConfig config, int? threads = null)
    {
        _padId = config.EosTokenId;
        Dimensions = config.HiddenSize;
        try
        {
            using var options = new SessionOptions();
            if (threads is { } n) options.IntraOpNumThreads = n;
            _session = new InferenceSession(onnxPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{onnxPath}: ONNX Runtime cannot load it ({e.Message})", e);
        }
        if (!_session.OutputMetadata.ContainsKey(EmbeddingOutput))
            throw new InvalidDataException($"{onnxPath} has no {EmbeddingOutput} output (it has {string.Join(", ", _session.OutputMetadata.Keys)}); serve a trainer export.");
    }

    public string Description => "onnx on cpu";

    public int Dimensions { get; }

    public float[][] Embed(IReadOnlyList<int[]> rows)
    {
        long[] ids, mask;
        int width;
        // The scope holds every tensor PaddedBatch makes, the staging ones included: a tensor that nothing holds can be
        // finalized while libtorch still reads it (see NoGcRegion), which crashed this engine under load.
        using (var scope = torch.NewDisposeScope())
        using (var batch = PaddedBatch.Create(rows, _padId))
        {
            ids = batch.InputIds.data<long>().ToArray();
            mask = batch.AttentionMask.data<long>().ToArray();
            width = (int)batch.InputIds.shape[1];
        }
        using var results = _session.Run(
            [NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [rows.Count, width])),
             NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [rows.Count, width]))],
            [EmbeddingOutput]);
        var flat = results.First().AsEnumerable<float>().ToArray();
        var vectors = new float[rows.Count][];
        for (int b = 0; b < rows.Count; b++) vectors[b] = flat.AsSpan(b * Dimensions, Dimensions).ToArray();
        return vectors;
    }

    public void Dispose() => _session.Dispose();
}
