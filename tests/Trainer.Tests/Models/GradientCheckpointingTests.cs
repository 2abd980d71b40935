using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class GradientCheckpointingTests
{
    [Fact]
    public void Checkpointed_gradients_equal_plain_gradients_with_dropout_and_frozen_embeddings() => CheckpointedEqualsPlain(CPU, 1e-6);

    /// <summary>
    /// The same on a bfloat16 base with the adapters in bfloat16 (<c>lora.compute_dtype: model</c>), whose addmm adds
    /// into the frozen projection's output in place: the recompute gives the same gradients.
    /// </summary>
    [Fact]
    public void With_lora_in_bfloat16_checkpointed_gradients_equal_plain_gradients() =>
        CheckpointedEqualsPlain(CPU, 1e-6, ScalarType.BFloat16, loraInModelDtype: true);

    /// <summary>Gradient checkpointing with dropout 0.1 gives the plain run's loss and gradients on <paramref name="device"/> (the CUDA suite runs it too).</summary>
    internal static void CheckpointedEqualsPlain(Device device, double tolerance, ScalarType dtype = ScalarType.Float32, bool loraInModelDtype = false)
    {
        var batch = ContrastiveFixture.Batch();
        using var plain = ContrastiveFixture.Model(dropout: 0.1, device: device, dtype: dtype, loraInModelDtype: loraInModelDtype);
        using var checkpointed = ContrastiveFixture.Model(dropout: 0.1, device: device, dtype: dtype, loraInModelDtype: loraInModelDtype);
        checkpointed.GradientCheckpointing = true;
        Assert.False(checkpointed.embed_tokens.weight.requires_grad); // the layer input does not require grad

        var (plainLoss, plainGrads) = ContrastiveFixture.LossAndGrads(plain, () => ContrastiveFixture.PlainLoss(plain, batch));
        var (ckptLoss, ckptGrads) = ContrastiveFixture.LossAndGrads(checkpointed, () => ContrastiveFixture.PlainLoss(checkpointed, batch));
        Assert.Equal(plainLoss, ckptLoss, 1e-6);
        Assert.Equal(28, ckptGrads.Count);
        Assert.All(ckptGrads.Values, g => Assert.True(g.abs().sum().item<float>() > 0));
        double diff = ContrastiveFixture.MaxAbsDiff(plainGrads, ckptGrads);
        Assert.True(diff <= tolerance, $"max abs grad diff {diff}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{device}: checkpointed vs plain, max abs grad diff {diff:G3}");

        // The generator ends where the plain run's does: the recompute put it back.
        Assert.Equal(plain.DropoutGenerator.GetState(), checkpointed.DropoutGenerator.GetState());
        Assert.Equal(3UL * 7 * (ulong)plain.Config.NumHiddenLayers, plain.DropoutGenerator.Counter); // one mask per projection and forward (queries, positives, negatives)
    }

    [Fact]
    public void Without_rng_replay_dropout_masks_would_differ()
    {
        // Guard for the test above: dropout really is active, so equal gradients are not a coincidence.
        var batch = ContrastiveFixture.Batch();
        using var model = ContrastiveFixture.Model(dropout: 0.1);
        var (first, _) = ContrastiveFixture.LossAndGrads(model, () => ContrastiveFixture.PlainLoss(model, batch));
        var (second, _) = ContrastiveFixture.LossAndGrads(model, () => ContrastiveFixture.PlainLoss(model, batch));
        Assert.NotEqual(first, second);
    }
}
