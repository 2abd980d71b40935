using Trainer.Losses;
using static TorchSharp.torch;

namespace Trainer.Tests.Losses;

/// <summary>InfoNCE with k = 3 hard negatives per row against torch (tests/reference/info_nce_negatives.py).</summary>
public class InfoNceNegativesTests
{
    [Fact]
    public void Loss_and_embedding_gradients_with_three_negatives_per_row_match_torch()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("info-nce-negatives.golden.json")));
        var g = doc.RootElement;
        int b = g.GetProperty("batch").GetInt32(), k = g.GetProperty("negatives_per_query").GetInt32();
        Assert.Equal((4, 3), (b, k));
        using var scope = NewDisposeScope();
        Tensor Leaf(string key) => tensor(g.GetProperty(key).EnumerateArray().SelectMany(Golden.Floats).ToArray())
            .reshape(g.GetProperty(key).GetArrayLength(), -1).requires_grad_(true);
        var queries = Leaf("queries");
        var positives = Leaf("positives");
        var negatives = Leaf("negatives");
        Assert.Equal(b * k, negatives.shape[0]);
        var loss = InfoNceLoss.Compute(queries, positives, negatives, g.GetProperty("temperature").GetDouble());
        Assert.True(Math.Abs(loss.item<float>() - g.GetProperty("loss").GetDouble()) <= 1e-5, $"loss {loss.item<float>()} vs {g.GetProperty("loss").GetDouble()}");
        loss.backward();
        foreach (var (leaf, key) in new[] { (queries, "grad_queries"), (positives, "grad_positives"), (negatives, "grad_negatives") })
        {
            var expected = g.GetProperty(key).EnumerateArray().SelectMany(Golden.Floats).ToArray();
            double diff = Golden.MaxAbsDiff(expected, leaf.grad!.reshape(-1).data<float>().ToArray());
            Assert.True(diff <= 1e-5, $"{key}: max abs diff {diff}");
        }
        // The negatives matter: without them the loss is another number.
        using var noGrad = no_grad();
        Assert.True(Math.Abs(InfoNceLoss.Compute(queries, positives, null, 0.05).item<float>() - loss.item<float>()) > 0.1);
    }
}
