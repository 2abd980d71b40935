using Trainer.Models.Mistral;
using Trainer.Parallel;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// The newer families (<see cref="FamilyGoldenTests"/>' tiny models) under the training machinery: gradient
/// checkpointing, GradCache and two replicas give the plain run's loss and adapter gradients, and the base stays
/// frozen, Qwen2's biases and Qwen3's q/k norms included.
/// </summary>
public class FamilyTrainingTests
{
    public static TheoryData<string> Families => FamilyGoldenTests.Families;

    /// <summary><see cref="GradCacheTests.Batch"/> with its ids folded into the tiny families' vocabulary of 96.</summary>
    private static ContrastiveBatch Batch()
    {
        static int[] Fold(int[] ids) => ids.Select(id => id % 96).ToArray();
        var b = GradCacheTests.Batch();
        return new ContrastiveBatch(b.Queries.Select(Fold).ToList(), b.Positives.Select(Fold).ToList(), b.RowNegatives.Select(n => n.Select(Fold).ToArray()).ToList());
    }

    private static MistralModel Model(string family, double dropout) => ContrastiveFixture.Model(dropout, modelDir: TestPaths.Fixture(family));

    private static (float Loss, Dictionary<string, Tensor> Grads) Step(ReplicaSet replicas, int? micro, Trainer.Models.EmbeddingDecoder first)
    {
        replicas.ZeroGradients();
        float loss;
        using (var value = new ContrastiveStep(replicas, micro, 0.02).Run(Batch())) loss = value.item<float>();
        var grads = first.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        return (loss, grads);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Checkpointing_GradCache_and_two_replicas_equal_the_plain_step_and_only_the_adapters_train(string family)
    {
        using var plainSet = new ReplicaSet([Model(family, dropout: 0)]);
        var plain = plainSet.Primary;
        var (loss, grads) = Step(plainSet, null, plain);
        Assert.Equal(2 * 7 * 2, grads.Count); // A and B of 7 projections in 2 layers: nothing else requires grad
        Assert.All(grads.Keys, name => Assert.Matches(@"\.lora_[AB]\.weight$", name));
        Assert.All(grads.Values, g => Assert.True(g.abs().sum().item<float>() > 0));

        using var checkpointedSet = new ReplicaSet([Model(family, dropout: 0)]);
        checkpointedSet.Primary.GradientCheckpointing = true;
        using var cachedSet = new ReplicaSet([Model(family, dropout: 0)]);
        using var pairSet = new ReplicaSet([Model(family, dropout: 0), Model(family, dropout: 0)]);
        foreach (var (name, set, micro) in new[] { ("checkpointing", checkpointedSet, (int?)null), ("GradCache 3", cachedSet, 3), ("two replicas", pairSet, null) })
        {
            var (otherLoss, otherGrads) = Step(set, micro, set.Primary);
            Assert.Equal(loss, otherLoss, 1e-5);
            double diff = ContrastiveFixture.MaxRelativeDiff(grads, otherGrads);
            Assert.True(diff <= 1e-5, $"{family}, {name}: max relative grad diff {diff}");
        }
    }
}
