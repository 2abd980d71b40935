using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Tests.Models;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// Token packing on CUDA (nonzero, masked_scatter and index_select there, in float32 and bfloat16): the packed layers
/// equal the full grid, forward and adapter gradients. docs/profile.md, "Packing"; the CPU side is TokenPackingTests.
/// </summary>
public class CudaPackingTests
{
    private static readonly Device Gpu = device("cuda:0");

    /// <summary>Rows of 1 to 64 tokens: a padded batch (TokenPackingTests' rows).</summary>
    private static List<int[]> Rows() => RandomRows.Of(11, 512, 30, 11, 64, 5, 1);

    /// <summary>Real-token hidden states and embeddings (float32, CPU) and the adapter gradients after one backward, packed or on the grid.</summary>
    private static (Tensor Hidden, Tensor Embeddings, Dictionary<string, Tensor> Gradients) Run(MistralModel model, List<int[]> rows, Tensor direction, bool pack)
    {
        model.PackTokens = pack;
        model.zero_grad();
        using var batch = EmbeddingPass.Pad(model, rows);
        using var scope = NewDisposeScope();
        var (hidden, embeddings) = EmbeddingPass.Forward(model, batch);
        (embeddings * direction).sum().backward();
        model.RecomputedGradients.Release();
        var real = batch.AttentionMask.unsqueeze(-1).to(ScalarType.Float32);                     // [B, S, 1]
        var grads = model.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.grad!.cpu().clone().DetachFromDisposeScope());
        return ((hidden.detach().to(ScalarType.Float32) * real).cpu().MoveToOuterDisposeScope(), embeddings.detach().cpu().MoveToOuterDisposeScope(), grads);
    }

    /// <summary>
    /// float32: real-token hidden states within 1e-5 of the largest, adapter gradients within 1e-4 relative (on the CPU:
    /// 9.7e-8 and 1.9e-6). bfloat16: the matmuls over T rows and over B·S rows may round differently, so the unit-norm
    /// embeddings are held to two bf16 units at 1 (2/128, as the bf16 forward test) and the gradients to 1e-1 relative,
    /// which a token in the wrong place or position still breaks by far.
    /// </summary>
    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void Packed_tokens_on_cuda_equal_the_full_grid(string dtype)
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: compares packed tokens with the full grid on cuda:0");
        using var model = ContrastiveFixture.Model(dropout: 0, seed: 3, Gpu, TestPaths.Stories260k, DTypes.Parse(dtype, "dtype"));
        var rows = Rows();
        using var direction = randn([rows.Count, 64], generator: new Generator(4)).to(Gpu);

        var grid = Run(model, rows, direction, pack: false);
        var packed = Run(model, rows, direction, pack: true);
        double hidden = (grid.Hidden - packed.Hidden).abs().max().item<float>() / grid.Hidden.abs().max().item<float>();
        double embeddings = (grid.Embeddings - packed.Embeddings).abs().max().item<float>();
        double gradients = ContrastiveFixture.MaxRelativeDiff(grid.Gradients, packed.Gradients);
        TestContext.Current.TestOutputHelper?.WriteLine($"{dtype} on cuda, packed vs grid: hidden (real tokens) max relative {hidden:G3}, embeddings max abs {embeddings:G3}, adapter gradients max relative {gradients:G3}");
        if (dtype == "float32")
        {
            Assert.True(hidden <= 1e-5, $"hidden max relative diff {hidden}");
            Assert.True(gradients <= 1e-4, $"adapter gradient max relative diff {gradients}");
        }
        else
        {
            Assert.True(embeddings <= 2.0 / 128, $"embedding max abs diff {embeddings}");
            Assert.True(gradients <= 1e-1, $"adapter gradient max relative diff {gradients}");
        }
        foreach (var t in grid.Gradients.Values.Concat(packed.Gradients.Values).Concat([grid.Hidden, packed.Hidden, grid.Embeddings, packed.Embeddings])) t.Dispose();
    }
}
