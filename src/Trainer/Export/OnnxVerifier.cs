using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Export;

/// <summary>
/// Runs an exported model with ONNX Runtime on a right-padded batch of different lengths and compares both outputs
/// with the TorchSharp model (base + adapter, float32). The reference is computed and freed before the ONNX session
/// loads, so the two never sit in memory together. The differences are judged by a <see cref="ParityRule"/>.
/// </summary>
public static class OnnxVerifier
{
    public static OnnxParity Verify(string onnxPath, string baseModelDir, string? adapterDir, ParityRule rule, int[][] rows)
    {
        var expected = Reference(baseModelDir, adapterDir, rows);
        Benchmarks.ProcessMemory.ReleaseFreedMemory(); // hand the reference model's pages back before ONNX Runtime loads
        int width = expected.Width;
        var ids = new DenseTensor<long>(expected.InputIds, [rows.Length, width]);       // the very batch the reference saw
        var attention = new DenseTensor<long>(expected.Mask, [rows.Length, width]);
        using var options = new SessionOptions();
        options.AddSessionConfigEntry("session.disable_prepacking", "1"); // keep weights in one copy
        options.EnableCpuMemArena = false;                                  // no arena held beyond the run
        using var session = new InferenceSession(onnxPath, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("attention_mask", attention)]);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsEnumerable<float>().ToArray();
        var embedding = results.First(r => r.Name == "sentence_embedding").AsEnumerable<float>().ToArray();
        return OnnxParity.Measure(expected.Hidden, hidden, expected.Mask, expected.Embedding, embedding, rows.Length, rule);
    }

    /// <summary>A right-padded batch of three different lengths from the model's own tokenizer.</summary>
    public static int[][] SampleRows(string modelDir, int maxLength) => SampleRows(EmbeddingTokenizer.Load(modelDir), maxLength);

    /// <summary>The same batch from <paramref name="tokenizer"/> (with its pool token).</summary>
    public static int[][] SampleRows(EmbeddingTokenizer tokenizer, int maxLength) =>
        [
            tokenizer.Encode("How do vaccines train the immune system?", "Given a web search query, retrieve relevant passages that answer the query", maxLength),
            tokenizer.Encode("Vaccines expose the immune system to a harmless part of a pathogen.", null, maxLength),
            tokenizer.Encode("short", null, maxLength),
        ];

    /// <summary>The TorchSharp side: the padded batch (ids and mask, row-major [B, S]) and what the model makes of it.</summary>
    private sealed record TorchReference(float[] Hidden, float[] Embedding, long[] InputIds, long[] Mask, int Width);

    private static TorchReference Reference(string baseModelDir, string? adapterDir, int[][] rows)
    {
        var lora = adapterDir is null ? null : PeftAdapter.ReadSettings(adapterDir);
        using var model = PretrainedLoader.Load(baseModelDir, ScalarType.Float32, lora: lora);
        if (adapterDir is not null) PeftAdapter.Load(adapterDir, model);
        using var inference = new InferenceScope(model);
        using var scope = NewDisposeScope();
        using var batch = EmbeddingPass.Pad(model, rows);
        var (hidden, embedding) = EmbeddingPass.Forward(model, batch);
        return new TorchReference(hidden.data<float>().ToArray(), embedding.data<float>().ToArray(), batch.InputIds.data<long>().ToArray(),
            batch.AttentionMask.data<long>().ToArray(), (int)batch.InputIds.shape[1]);
    }
}
