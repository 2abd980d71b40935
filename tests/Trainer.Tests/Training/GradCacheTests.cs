using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Parallel;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

public class GradCacheTests
{
    internal static ContrastiveBatch Batch()
    {
        var (q, p, n) = ContrastiveFixture.Batch();
        return new ContrastiveBatch(q.ToList(), p.ToList(), n.Select((x, i) => i == 2 ? null : x).ToList<int[]?>()); // row 2 has no negative
    }

    private static (float Loss, Dictionary<string, Tensor> Grads) Step(MistralModel model, int? micro)
    {
        var replicas = new ReplicaSet([model]); // not disposed here: that would dispose the caller's model
        var step = new ContrastiveStep(replicas, micro, 0.02);
        model.zero_grad();
        float loss;
        using (var value = step.Run(Batch())) loss = value.item<float>();
        var grads = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        return (loss, grads);
    }

    [Fact]
    public void GradCache_equals_the_full_batch_without_dropout()
    {
        using var full = ContrastiveFixture.Model(dropout: 0);
        using var cached = ContrastiveFixture.Model(dropout: 0);
        var (fullLoss, fullGrads) = Step(full, micro: null);
        var (cachedLoss, cachedGrads) = Step(cached, micro: 3); // 4 queries in chunks of 3, 1; 7 documents in 3, 3, 1
        Assert.Equal(fullLoss, cachedLoss, 1e-5);
        double diff = ContrastiveFixture.MaxRelativeDiff(fullGrads, cachedGrads);
        Assert.True(diff <= 1e-5, $"max relative grad diff {diff}");
    }

    [Fact]
    public void GradCache_equals_the_full_batch_with_dropout_by_replaying_the_rng() => GradCacheEqualsReference(CPU, 1e-5);

    /// <summary>The same on a bfloat16 base with the adapters in bfloat16 (<c>lora.compute_dtype: model</c>).</summary>
    [Fact]
    public void With_lora_in_bfloat16_gradcache_equals_its_reference() => GradCacheEqualsReference(CPU, 1e-5, ScalarType.BFloat16, loraInModelDtype: true);

    /// <summary>
    /// GradCache with dropout 0.1 on <paramref name="device"/> equals its reference: the same micro-batch forwards, but all
    /// kept in one graph and back-propagated once (the CUDA suite runs it too).
    /// </summary>
    internal static void GradCacheEqualsReference(Device device, double tolerance, ScalarType dtype = ScalarType.Float32, bool loraInModelDtype = false)
    {
        // Reference: the same micro-batch forwards (the 4 queries in chunks of 3, 1, then the 7 documents in 3, 3, 1),
        // but all kept in one graph and back-propagated once.
        var batch = Batch();
        using var reference = ContrastiveFixture.Model(dropout: 0.1, device: device, dtype: dtype, loraInModelDtype: loraInModelDtype);
        var (refLoss, refGrads) = ContrastiveFixture.LossAndGrads(reference, () =>
        {
            var chunks = batch.PaddingGroups().SelectMany(g => g.Chunk(3)).ToList();
            Assert.Equal([3, 1, 3, 3, 1], chunks.Select(c => c.Length));
            var e = cat(chunks.Select(c => EmbeddingPass.Embed(reference, c)).ToList(), 0);
            return InfoNceLoss.Compute(e.narrow(0, 0, 4), e.narrow(0, 4, 4), e.narrow(0, 8, 3), 0.02);
        });

        using var cached = ContrastiveFixture.Model(dropout: 0.1, device: device, dtype: dtype, loraInModelDtype: loraInModelDtype);
        var (cachedLoss, cachedGrads) = Step(cached, micro: 3);
        Assert.Equal(refLoss, cachedLoss, 1e-5);
        double diff = ContrastiveFixture.MaxRelativeDiff(refGrads, cachedGrads);
        Assert.True(diff <= tolerance, $"max relative grad diff {diff}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{device}: GradCache vs reference, max relative grad diff {diff:G3}");
        Assert.Equal(reference.DropoutGenerator.GetState(), cached.DropoutGenerator.GetState()); // the generator ends where one pass would leave it
    }
}
