using Trainer.Parallel;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

[Collection(LeakTestCollection.Name)]
public class GradCacheLeakTests
{
    [Fact]
    public void No_growth_of_live_tensors_across_20_steps_with_every_feature_on()
    {
        var models = new[] { ContrastiveFixture.Model(dropout: 0.1), ContrastiveFixture.Model(dropout: 0.1) };
        foreach (var m in models) m.GradientCheckpointing = true;
        using var replicas = new ReplicaSet(models);
        var step = new ContrastiveStep(replicas, 2, 0.02);
        var batch = GradCacheTests.Batch();
        long Live() { GC.Collect(); GC.WaitForPendingFinalizers(); return Tensor.TotalCount; }
        void Run()
        {
            replicas.ZeroGradients();
            step.Run(batch).Dispose();
            replicas.Broadcast();
        }
        for (int i = 0; i < 3; i++) Run();
        long before = Live();
        for (int i = 0; i < 20; i++) Run();
        Assert.Equal(before, Live());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2)]
    public void A_step_whose_loss_throws_disposes_every_tensor_it_made(int? microBatch)
    {
        var models = new[] { ContrastiveFixture.Model(dropout: 0.1), ContrastiveFixture.Model(dropout: 0.1) };
        foreach (var m in models) m.GradientCheckpointing = true;
        using var replicas = new ReplicaSet(models);
        var batch = GradCacheTests.Batch();
        var good = new ContrastiveStep(replicas, microBatch, 0.02);
        var failing = new ContrastiveStep(replicas, microBatch, temperature: 0); // InfoNCE refuses it once the embeddings exist
        for (int i = 0; i < 2; i++)
        {
            replicas.ZeroGradients();
            good.Run(batch).Dispose();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        for (int i = 0; i < 3; i++) Assert.Throws<ArgumentOutOfRangeException>(() => failing.Run(batch));
        Assert.Equal(before, Tensor.TotalCount); // no collection here: disposed by the step, not left to the finalizers
        Assert.All(models, m => Assert.Equal(0, m.RecomputedGradients.Count));
    }
}
