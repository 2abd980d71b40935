using static TorchSharp.torch;

namespace Trainer.Tests.Scale;

public class GradientCheckpointingTests
{
    [Fact]
    public void Checkpointed_gradients_equal_plain_gradients_with_dropout_and_frozen_embeddings()
    {
        var batch = ScaleHelpers.Batch();
        using var plain = ScaleHelpers.Model(dropout: 0.1);
        using var checkpointed = ScaleHelpers.Model(dropout: 0.1);
        checkpointed.GradientCheckpointing = true;
        Assert.False(checkpointed.embed_tokens.weight.requires_grad); // the layer input does not require grad

        var (plainLoss, plainGrads) = ScaleHelpers.LossAndGrads(plain, () => ScaleHelpers.PlainLoss(plain, batch));
        var (ckptLoss, ckptGrads) = ScaleHelpers.LossAndGrads(checkpointed, () => ScaleHelpers.PlainLoss(checkpointed, batch));
        Assert.Equal(plainLoss, ckptLoss, 6);
        Assert.Equal(28, ckptGrads.Count);
        Assert.All(ckptGrads.Values, g => Assert.True(g.abs().sum().item<float>() > 0));
        double diff = ScaleHelpers.MaxAbsDiff(plainGrads, ckptGrads);
        Assert.True(diff <= 1e-6, $"max abs grad diff {diff}");

        // The generator ends where the plain run's does: the recompute put it back.
        using var a = plain.DropoutGenerator.get_state();
        using var b = checkpointed.DropoutGenerator.get_state();
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void Without_rng_replay_dropout_masks_would_differ()
    {
        // Guard for the test above: dropout really is active, so equal gradients are not a coincidence.
        var batch = ScaleHelpers.Batch();
        using var model = ScaleHelpers.Model(dropout: 0.1);
        var (first, _) = ScaleHelpers.LossAndGrads(model, () => ScaleHelpers.PlainLoss(model, batch));
        var (second, _) = ScaleHelpers.LossAndGrads(model, () => ScaleHelpers.PlainLoss(model, batch));
        Assert.NotEqual(first, second);
    }
}

[Collection(LeakTestCollection.Name)]
public class GradientCheckpointingLeakTests
{
    [Fact]
    public void No_tensors_leak_across_steps()
    {
        var batch = ScaleHelpers.Batch();
        using var model = ScaleHelpers.Model(dropout: 0.1);
        model.GradientCheckpointing = true;
        long Live() { GC.Collect(); GC.WaitForPendingFinalizers(); return Tensor.TotalCount; }
        for (int i = 0; i < 3; i++) Step();
        long before = Live();
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, Live());

        void Step()
        {
            using (var scope = NewDisposeScope())
            {
                model.zero_grad();
                ScaleHelpers.PlainLoss(model, batch).backward();
            }
            Trainer.Models.Mistral.LayerCheckpoint.ReleasePending();
        }
    }
}
