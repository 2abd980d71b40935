using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// With right padding and no sliding window inside the batch's length, attention runs libtorch's causal kernel with no
/// mask; every real token's hidden state (and every adapter gradient) equals the explicit-mask path's.
/// </summary>
public class CausalKernelTests
{
    /// <summary>Rows of different lengths (so the batch has padding): <see cref="RandomRows"/> with this class's seed.</summary>
    private static List<int[]> Rows(int vocab, params int[] lengths) => RandomRows.Of(5, vocab, lengths);

    /// <summary>tiny-mistral with its sliding window (6) removed, so long rows take the causal kernel too.</summary>
    private static string TinyMistralWithoutWindow()
    {
        var dir = TestPaths.TempDir("tiny-no-window");
        foreach (var file in new[] { "model.safetensors", "tokenizer.model" }) File.Copy(Path.Combine(TestPaths.TinyMistral, file), Path.Combine(dir, file));
        var config = File.ReadAllText(Path.Combine(TestPaths.TinyMistral, "config.json"));
        Assert.Contains("\"sliding_window\": 6", config);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.Replace("\"sliding_window\": 6", "\"sliding_window\": null"));
        return dir;
    }

    /// <summary>Max |Δ| of the hidden states over real tokens, explicit mask vs causal kernel; asserts the kernel was chosen.</summary>
    private static double MaxRealTokenDiff(MistralModel model, List<int[]> rows)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var batch = PaddedBatch.Create(rows, EmbeddingPass.PadId(model));
        Assert.True(AttentionMask.CausalIsExact(batch.AttentionMask, model.Config.SlidingWindow));
        Assert.Contains(0L, batch.AttentionMask.data<long>().ToArray()); // the batch has padding
        model.ExplicitMask = true;
        var explicitHidden = model.call(batch.InputIds, batch.AttentionMask); // [B, S, H]
        model.ExplicitMask = false;
        var causalHidden = model.call(batch.InputIds, batch.AttentionMask);
        var real = batch.AttentionMask.to(ScalarType.Bool).unsqueeze(-1);    // [B, S, 1]
        var diff = (explicitHidden - causalHidden).abs().masked_fill(real.logical_not(), 0);
        return diff.max().item<float>();
    }

    [Fact]
    public void Stories260k_real_tokens_equal_the_explicit_mask_path()
    {
        using var model = (MistralModel)PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32);
        Assert.Null(model.Config.SlidingWindow);
        double max = MaxRealTokenDiff(model, Rows(512, 64, 17, 40, 1, 63));
        Assert.True(max <= 1e-6, $"max abs diff {max}");
    }

    [Fact]
    public void Tiny_mistral_real_tokens_equal_the_explicit_mask_path_within_its_window_and_without_one()
    {
        using (var windowed = (MistralModel)PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32))
        {
            double max = MaxRealTokenDiff(windowed, Rows(32000, 6, 2, 5)); // S = 6 = window: the window hides nothing
            Assert.True(max <= 1e-6, $"within the window: max abs diff {max}");
        }
        using var unwindowed = (MistralModel)PretrainedLoader.Load(TinyMistralWithoutWindow(), ScalarType.Float32);
        double longMax = MaxRealTokenDiff(unwindowed, Rows(32000, 40, 9, 33, 40));
        Assert.True(longMax <= 1e-6, $"without a window: max abs diff {longMax}");
    }

    [Fact]
    public void Adapter_gradients_equal_the_explicit_mask_path()
    {
        var lora = new LoraSettings(4, 8, 0, LoraSettings.AllProjections);
        using var model = (MistralModel)PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32, lora: lora);
        using (var generator = new Generator(3))
        {
            foreach (var (_, adapter) in model.Adapters())
            {
                adapter.ResetAdapter(generator);
                using var _ = no_grad();
                adapter.lora_B.weight.copy_(randn(adapter.lora_B.weight.shape, generator: generator) * 0.1);
            }
        }
        model.train();
        var rows = Rows(512, 30, 11, 64, 5);
        using var direction = randn([rows.Count, 64], generator: new Generator(4)); // a fixed random readout of the embeddings

        Dictionary<string, Tensor> Gradients(bool explicitMask)
        {
            model.ExplicitMask = explicitMask;
            model.zero_grad();
            using (var scope = NewDisposeScope()) (EmbeddingPass.Embed(model, rows) * direction).sum().backward();
            return model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        }

        var reference = Gradients(explicitMask: true);
        var causal = Gradients(explicitMask: false);
        Assert.Equal(70, reference.Count); // 5 layers × 7 projections × (A, B)
        double diff = ContrastiveFixture.MaxRelativeDiff(reference, causal);
        Assert.True(diff <= 1e-5, $"max relative grad diff {diff}");
    }

    [Theory]
    [InlineData(null, 64, true)]  // no window
    [InlineData(64, 64, true)]    // q − k ≤ 63 < 64: the window hides nothing
    [InlineData(63, 64, false)]   // hides q − k = 63
    [InlineData(4096, 512, true)] // the 7B shape at 512 tokens
    public void The_causal_kernel_is_chosen_only_when_the_window_hides_nothing(int? window, int length, bool causal)
    {
        using var scope = NewDisposeScope();
        var mask = ones(2, length, ScalarType.Int64);
        mask[1, length - 3] = tensor(0L); // right padding on row 1
        mask[1, length - 2] = tensor(0L);
        mask[1, length - 1] = tensor(0L);
        Assert.Equal(causal, AttentionMask.CausalIsExact(mask, window));
        Assert.Equal(causal, AttentionMask.For(mask, window, ScalarType.Float32).numel() == 0);
    }

    [Fact]
    public void Left_padding_keeps_the_explicit_mask()
    {
        using var scope = NewDisposeScope();
        var left = tensor(new long[,] { { 1, 1, 1, 1 }, { 0, 0, 1, 1 } });
        var gap = tensor(new long[,] { { 1, 0, 1, 1 } });
        var right = tensor(new long[,] { { 1, 1, 1, 1 }, { 1, 1, 0, 0 } });
        Assert.False(AttentionMask.IsRightPadded(left));
        Assert.False(AttentionMask.IsRightPadded(gap));
        Assert.True(AttentionMask.IsRightPadded(right));
        var mask = AttentionMask.For(left, null, ScalarType.Float32);
        Assert.Equal([2L, 1, 4, 4], mask.shape);
        Assert.True(mask.eq(AttentionMask.Build(left, null, ScalarType.Float32)).all().item<bool>());
    }
}
