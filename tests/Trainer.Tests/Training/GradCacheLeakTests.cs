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
            step.Run(batch);
            replicas.Broadcast();
        }
        for (int i = 0; i < 3; i++) Run();
        long before = Live();
        for (int i = 0; i < 20; i++) Run();
        Assert.Equal(before, Live());
    }
}
