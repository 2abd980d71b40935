using System.Text.Json;
using Trainer.Models;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>The forward on CUDA against the CPU (float32) and against float32 on CUDA (bfloat16). docs/cuda.md runs this suite on a GPU.</summary>
public class CudaForwardTests
{
    /// <summary>Three rows of the tiny Mistral's golden batch (lengths 36, 34, 31: right padding).</summary>
    private static List<int[]> TinyRows()
    {
        var golden = Golden.TinyBatchHidden();
        return golden.InputIds.Zip(golden.AttentionMask, (ids, mask) => ids.Take(mask.Sum()).ToArray()).ToList();
    }

    /// <summary>The llama2.c golden ids and a shorter prefix of them (so the batch is padded).</summary>
    private static List<int[]> StoriesRows()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("stories260k.golden.json")));
        var ids = Golden.Ints(doc.RootElement.GetProperty("input_ids"));
        return [ids, ids[..(ids.Length / 2)]];
    }

    /// <summary>Hidden states [B, S, H] (float32, on the CPU, zero at pads) and embeddings [B, H] of <paramref name="rows"/>.</summary>
    private static (Tensor Hidden, Tensor Embeddings) Forward(string modelDir, ScalarType dtype, Device device, List<int[]> rows)
    {
        using var model = PretrainedLoader.Load(modelDir, dtype, device);
        model.eval();
        using var _ = no_grad();
        using var batch = EmbeddingPass.Pad(model, rows);
        using var scope = NewDisposeScope();
        var (hidden, embeddings) = EmbeddingPass.Forward(model, batch);
        var real = batch.AttentionMask.unsqueeze(-1).to(ScalarType.Float32);                     // [B, S, 1]
        return ((hidden.to(ScalarType.Float32) * real).cpu().MoveToOuterDisposeScope(), embeddings.to(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
    }

    private static double MaxAbs(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData("tiny-mistral")]
    [InlineData("stories260k")]
    public void Float32_forward_on_cuda_equals_the_cpu(string model)
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: compares the float32 forward on cuda:0 with the CPU's");
        using var scope = NewDisposeScope();
        var (dir, rows) = model == "tiny-mistral" ? (TestPaths.TinyMistral, TinyRows()) : (TestPaths.Stories260k, StoriesRows());
        var (cpuHidden, cpuEmbeddings) = Forward(dir, ScalarType.Float32, CPU, rows);
        var (gpuHidden, gpuEmbeddings) = Forward(dir, ScalarType.Float32, device("cuda:0"), rows);
        double hidden = MaxAbs(cpuHidden, gpuHidden), embeddings = MaxAbs(cpuEmbeddings, gpuEmbeddings);
        TestContext.Current.TestOutputHelper?.WriteLine($"{model} float32 cuda vs cpu: hidden (real tokens) max abs {hidden:G3}, embeddings max abs {embeddings:G3}");
        Assert.True(hidden <= 1e-5, $"hidden max abs diff {hidden}");
        Assert.True(embeddings <= 1e-5, $"embedding max abs diff {embeddings}");
    }

    [Theory]
    [InlineData("tiny-mistral")]
    [InlineData("stories260k")]
    public void Bfloat16_forward_on_cuda_is_within_bf16_rounding_of_float32(string model)
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: compares the bfloat16 forward on cuda:0 with float32 there");
        using var scope = NewDisposeScope();
        var (dir, rows) = model == "tiny-mistral" ? (TestPaths.TinyMistral, TinyRows()) : (TestPaths.Stories260k, StoriesRows());
        var (_, fp32) = Forward(dir, ScalarType.Float32, device("cuda:0"), rows);
        var (_, bf16) = Forward(dir, ScalarType.BFloat16, device("cuda:0"), rows);
        double diff = MaxAbs(fp32, bf16);
        TestContext.Current.TestOutputHelper?.WriteLine($"{model} bfloat16 vs float32 on cuda: embeddings max abs {diff:G3}");
        // Unit-norm embeddings: a bf16 unit in the last place at 1 is 2^-7; every component must stay within 2 of them.
        Assert.True(diff <= 2.0 / 128, $"embedding max abs diff {diff}");
        Assert.True(diff > 0); // it really ran in bfloat16
    }
}
