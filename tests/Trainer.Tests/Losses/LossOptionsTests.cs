using System.Text.Json;
using Trainer.Losses;
using Trainer.Models.Lora;
using Trainer.Parallel;
using Trainer.Tests.Models;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Losses;

/// <summary>The false-negative filter and Matryoshka InfoNCE against tests/reference/loss_options.py (loss-options.golden.json).</summary>
public class LossOptionsTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() => JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("loss-options.golden.json"))));

    private static JsonElement Root => Doc.Value.RootElement;

    private static Tensor Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(Golden.Floats).ToArray();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
    }

    private static InfoNceOptions Options(JsonElement c) => new(
        c.GetProperty("temperature").GetDouble(),
        c.GetProperty("false_negative_margin") is { ValueKind: JsonValueKind.Number } m ? m.GetDouble() : null,
        c.GetProperty("matryoshka_dims") is { ValueKind: JsonValueKind.Array } d ? Golden.Ints(d) : null,
        c.TryGetProperty("matryoshka_weights", out var w) && w.ValueKind == JsonValueKind.Array ? w.EnumerateArray().Select(x => x.GetDouble()).ToList() : null);

    private static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData("plain")]
    [InlineData("matryoshka")]
    [InlineData("matryoshka_weighted")]
    [InlineData("false_negative")]
    [InlineData("both")]
    public void Loss_and_embedding_gradients_match_the_reference(string name)
    {
        var c = Root.GetProperty("cases").GetProperty(name);
        using var scope = NewDisposeScope();
        var q = Matrix(Root.GetProperty("queries")).requires_grad_(true);
        var p = Matrix(Root.GetProperty("positives")).requires_grad_(true);
        var n = Matrix(Root.GetProperty("negatives")).requires_grad_(true);
        Assert.Equal(2 * q.shape[0], n.shape[0]); // k = 2 negatives per row: the candidate count is not 2N
        var (loss, masked) = InfoNceLoss.Compute(q, p, n, Options(c));
        loss.backward();
        double expected = c.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(loss.item<float>() - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"{name}: loss {loss.item<float>()} vs {expected}");
        Assert.Equal(c.GetProperty("masked").GetInt32(), (int)masked.item<float>());
        double diff = new[] { (q, "grad_queries"), (p, "grad_positives"), (n, "grad_negatives") }.Max(x => MaxAbsDiff(x.Item1.grad!, Matrix(c.GetProperty(x.Item2))));
        Assert.True(diff <= 1e-5, $"{name}: max embedding grad diff {diff}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: loss {loss.item<float>()} (reference {expected}), masked {(int)masked.item<float>()}, max grad diff {diff:G3}");
    }

    [Fact]
    public void The_false_negative_batch_masks_its_planted_false_negatives_and_they_get_zero_gradient()
    {
        var c = Root.GetProperty("cases").GetProperty("false_negative");
        Assert.Equal(4, c.GetProperty("masked").GetInt32());
        using var scope = NewDisposeScope();
        var q = Matrix(Root.GetProperty("queries"));
        var p = Matrix(Root.GetProperty("positives")).requires_grad_(true);
        var n = Matrix(Root.GetProperty("negatives")).requires_grad_(true);
        var (loss, _) = InfoNceLoss.Compute(q, p, n, Options(c));
        loss.backward();
        // The planted false negatives dominate the unfiltered loss: query 0 scores positive 1 far above its own.
        using var unmasked = InfoNceLoss.Compute(q, p.detach(), n.detach(), new InfoNceOptions(0.05)).Item1;
        Assert.True(unmasked.item<float>() > 5 * loss.item<float>(), $"unmasked {unmasked.item<float>()} vs masked {loss.item<float>()}");
        // Query 2 alone: its own first hard negative (row-major: negative 2·k = 4) is masked, so it gets exactly zero
        // gradient, while its second (negative 5) is kept and gets some.
        var p2 = p.detach().clone().requires_grad_(true);
        var n2 = n.detach().clone().requires_grad_(true);
        var (single, masked) = InfoNceLoss.Compute(q.narrow(0, 2, 1), p2.narrow(0, 2, 1), n2, new InfoNceOptions(0.05, 0.1));
        single.backward();
        Assert.True((int)masked.item<float>() >= 1);
        Assert.Equal(0f, n2.grad![4].abs().max().item<float>());
        Assert.True(n2.grad![5].abs().max().item<float>() > 0);
    }

    [Fact]
    public void Matryoshka_at_the_full_size_alone_equals_the_plain_loss()
    {
        using var scope = NewDisposeScope();
        var q = Matrix(Root.GetProperty("queries"));
        var p = Matrix(Root.GetProperty("positives"));
        var n = Matrix(Root.GetProperty("negatives"));
        var plain = InfoNceLoss.Compute(q, p, n, 0.05);
        var (full, masked) = InfoNceLoss.Compute(q, p, n, new InfoNceOptions(0.05, MatryoshkaDims: [32]));
        Assert.Equal(plain.item<float>(), full.item<float>(), 1e-5);
        Assert.Equal(0f, masked.item<float>());
    }

    /// <summary>
    /// 3 AdamW steps of the tiny Mistral with its fixture adapter through <see cref="ContrastiveStep"/>, Matryoshka
    /// [32, 16] and the false-negative margin, against the reference's 3 steps (losses, masked counts, final adapter).
    /// </summary>
    [Fact]
    public void Three_training_steps_with_matryoshka_and_the_filter_match_the_reference()
    {
        var t = Root.GetProperty("training");
        var (queries, positives, negatives) = ContrastiveFixture.Batch();
        var batch = new ContrastiveBatch(queries.ToList(), positives.ToList(), negatives.ToList<int[]?>());
        using var model = LoraTests.LoadWithFixtureAdapter();
        model.train();
        var replicas = new ReplicaSet([model]); // not disposed: it would dispose the model
        var options = new InfoNceOptions(t.GetProperty("temperature").GetDouble(), t.GetProperty("false_negative_margin").GetDouble(), Golden.Ints(t.GetProperty("matryoshka_dims")));
        var step = new ContrastiveStep(replicas, null, options);
        using var optimizer = new AdamW(model.TrainableParameters(), t.GetProperty("learning_rate").GetDouble(), 0.9, 0.999, 1e-8, 0);
        var expectedLosses = t.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var expectedMasked = Golden.Ints(t.GetProperty("masked"));
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            replicas.ZeroGradients();
            var loss = step.Run(batch, out var masked);
            Assert.True(Math.Abs(loss.item<float>() - expectedLosses[i]) <= 1e-4, $"step {i + 1}: loss {loss.item<float>()} vs {expectedLosses[i]}");
            Assert.Equal(expectedMasked[i], (int)masked.item<float>());
            optimizer.step();
        }
        double max = 0;
        var adapter = t.GetProperty("adapter");
        foreach (var (key, parameter) in PeftAdapter.Keys(model))
        {
            using var scope = NewDisposeScope();
            var rows = adapter.GetProperty(key).EnumerateArray().Select(Golden.Floats).ToArray();
            max = Math.Max(max, MaxAbsDiff(parameter, tensor(rows.SelectMany(r => r).ToArray(), parameter.shape)));
        }
        Assert.True(max <= 1e-4, $"adapter max abs diff after 3 steps {max}");
        TestContext.Current.TestOutputHelper?.WriteLine($"3 steps: adapter max abs diff {max:G3}");
    }
}
