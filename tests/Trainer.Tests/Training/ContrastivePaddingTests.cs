using Trainer.Data;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Parallel;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary>
/// A step embeds its queries and its documents as two batches, each padded to its own longest row. Without dropout
/// that equals one batch padded to the common length (the path before); with dropout it is exactly "queries, then
/// documents" in one graph.
/// </summary>
public class ContrastivePaddingTests
{
    /// <summary>Quickstart-like rows: SciFact claims and abstracts through the stories260k tokenizer, queries shorter than documents.</summary>
    private static ContrastiveBatch SciFactBatch()
    {
        var examples = TrainingDataReader.Read([Path.Combine(TestPaths.RepoRoot, "data", "scifact", "train.jsonl")], null, false).Examples;
        var batch = ContrastiveBatch.Build(examples, [0, 1, 2, 3, 4, 5], seed: 42, epoch: 0, EmbeddingTokenizer.Load(TestPaths.Stories260k), maxLength: 128);
        Assert.True(batch.Queries.Max(q => q.Length) < batch.Documents().Max(d => d.Length), "the queries pad to less than the documents' length");
        return batch;
    }

    private static (float Loss, Dictionary<string, Tensor> Grads) Step(MistralModel model, ContrastiveBatch batch, int? micro = null)
    {
        var step = new ContrastiveStep(new ReplicaSet([model]), micro, 0.05); // the set is not disposed: it would dispose the model
        model.zero_grad();
        float loss;
        using (var value = step.Run(batch)) loss = value.item<float>();
        return (loss, model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope()));
    }

    private static Tensor Loss(Tensor e, ContrastiveBatch batch)
    {
        int n = batch.Size, m = batch.Negatives.Count;
        return InfoNceLoss.Compute(e.narrow(0, 0, n), e.narrow(0, n, n), m > 0 ? e.narrow(0, 2 * n, m) : null, 0.05);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4)] // GradCache: queries in 4, 2; documents in 4, 4, 3
    public void Separate_padding_equals_one_common_length_without_dropout(int? micro)
    {
        var batch = SciFactBatch();
        using var before = ContrastiveFixture.Model(dropout: 0, modelDir: TestPaths.Stories260k);
        before.ExplicitMask = true; // the path before: [queries; positives; negatives] in one batch, explicit mask
        var (refLoss, refGrads) = ContrastiveFixture.LossAndGrads(before, () => Loss(EmbeddingPass.Embed(before, batch.AllRows()), batch));

        using var model = ContrastiveFixture.Model(dropout: 0, modelDir: TestPaths.Stories260k);
        var (loss, grads) = Step(model, batch, micro);
        Assert.True(Math.Abs(refLoss - loss) <= 1e-6, $"loss {refLoss} vs {loss}");
        double diff = ContrastiveFixture.MaxRelativeDiff(refGrads, grads);
        Assert.True(diff <= 3e-5, $"max relative grad diff {diff}"); // float32 summation order over 128-token rows (measured ≈1e-5 with GradCache)
    }

    [Fact]
    public void With_dropout_the_step_embeds_the_queries_then_the_documents_each_padded_on_its_own()
    {
        var batch = SciFactBatch();
        using var reference = ContrastiveFixture.Model(dropout: 0.1, modelDir: TestPaths.Stories260k);
        var (refLoss, refGrads) = ContrastiveFixture.LossAndGrads(reference, () =>
            Loss(cat([EmbeddingPass.Embed(reference, batch.Queries), EmbeddingPass.Embed(reference, batch.Documents())], 0), batch));

        using var model = ContrastiveFixture.Model(dropout: 0.1, modelDir: TestPaths.Stories260k);
        var (loss, grads) = Step(model, batch);
        Assert.Equal(refLoss, loss);
        double diff = ContrastiveFixture.MaxAbsDiff(refGrads, grads);
        Assert.True(diff == 0, $"max grad diff {diff}");
        Assert.Equal(reference.DropoutGenerator.GetState(), model.DropoutGenerator.GetState()); // the same masks were drawn, in the same order
    }

    [Fact]
    public void Queries_and_documents_are_padded_apart_only_when_their_longest_rows_differ()
    {
        int[] Row(int length) => Enumerable.Range(3, length).ToArray();
        var apart = new ContrastiveBatch([Row(5), Row(9)], [Row(30), Row(12)], [null, Row(41)]);
        Assert.Equal([[5, 9], [30, 12, 41]], apart.PaddingGroups().Select(g => g.Select(r => r.Length).ToArray()));

        var together = new ContrastiveBatch([Row(64), Row(20)], [Row(64), Row(64)], [Row(7), null]); // both groups pad to 64
        var groups = together.PaddingGroups();
        Assert.Single(groups);
        Assert.Equal(together.AllRows(), groups[0]);

        Assert.Empty(apart.Slice(0, 0).PaddingGroups()); // a replica with no rows
    }
}
