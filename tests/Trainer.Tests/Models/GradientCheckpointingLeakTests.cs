using static TorchSharp.torch;

namespace Trainer.Tests.Models;

[Collection(LeakTestCollection.Name)]
public class GradientCheckpointingLeakTests
{
    [Fact]
    public void No_tensors_leak_across_steps()
    {
        var batch = ContrastiveFixture.Batch();
        using var model = ContrastiveFixture.Model(dropout: 0.1);
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
                ContrastiveFixture.PlainLoss(model, batch).backward();
            }
            model.RecomputedGradients.Release();
        }
    }
}
