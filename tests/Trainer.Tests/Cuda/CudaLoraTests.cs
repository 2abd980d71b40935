using Trainer.Tests.Models;
using Trainer.Tests.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// <c>lora.compute_dtype: model</c> on CUDA: the adapter's bf16 matmuls and addmm against the float64 formula, and
/// gradient checkpointing's and GradCache's replay of it. docs/cuda.md runs this suite on a GPU.
/// </summary>
public class CudaLoraTests
{
    private static readonly Device Gpu = device("cuda:0");

    [Fact]
    public void Lora_in_bfloat16_on_cuda_is_the_textbook_formula_within_its_rounding()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: runs a bf16 LoRA layer on cuda:0 against float64");
        using var scope = NewDisposeScope();
        var inFloat32 = LoraTests.AgainstTextbook(ScalarType.BFloat16, inModelDtype: false, training: true, Gpu);
        var inModel = LoraTests.AgainstTextbook(ScalarType.BFloat16, inModelDtype: true, training: true, Gpu);
        TestContext.Current.TestOutputHelper?.WriteLine($"cuda bfloat16 base, dropout 0.1: float32 adapter {inFloat32}; lora.compute_dtype model {inModel}");
        foreach (var e in new[] { inFloat32, inModel })
            Assert.True(e.Output < 1.0 / 128 && e.Input < 1.0 / 128 && e.A < 1.0 / 128 && e.B < 1.0 / 128, e.ToString());
        Assert.True(inFloat32.A < 1e-5 && inFloat32.B < 1e-5, $"float32 adapter: {inFloat32}");
    }

    [Fact]
    public void With_lora_in_bfloat16_on_cuda_checkpointing_equals_the_plain_run()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: gradient checkpointing with bf16 LoRA and dropout 0.1 on cuda:0");
        GradientCheckpointingTests.CheckpointedEqualsPlain(Gpu, 1e-5, ScalarType.BFloat16, loraInModelDtype: true);
    }

    [Fact]
    public void With_lora_in_bfloat16_on_cuda_gradcache_equals_its_reference()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: GradCache with bf16 LoRA and dropout 0.1 on cuda:0");
        GradCacheTests.GradCacheEqualsReference(Gpu, 1e-5, ScalarType.BFloat16, loraInModelDtype: true);
    }
}
