using TorchSharp;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// The decoder computes on a batch's real tokens only (<see cref="TokenPacking"/>): every projection sees T rows, not
/// B·S, and a padded batch gives each row the embedding and the adapter gradient that row has alone, unpadded.
/// </summary>
public class TokenPackingTests
{
    /// <summary>Rows of different lengths (so the batch has padding): <see cref="RandomRows"/> with this class's seed.</summary>
    private static List<int[]> Rows(int vocab, params int[] lengths) => RandomRows.Of(11, vocab, lengths);

    [Fact]
    public void Packing_lists_the_real_tokens_in_row_order_with_their_positions_and_scatters_back_with_zero_pads()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new long[,] { { 1, 1, 1, 0 }, { 1, 0, 0, 0 }, { 1, 1, 1, 1 } });
        var packing = TokenPacking.Of(mask);
        Assert.False(packing.IsDense);
        Assert.Equal(8, packing.Tokens);
        Assert.Equal([0L, 1, 2, 4, 8, 9, 10, 11], packing.Index.data<long>().ToArray());
        Assert.Equal([0L, 1, 2, 0, 0, 1, 2, 3], packing.Positions(CPU).data<long>().ToArray());

        var grid = arange(1, 25, dtype: ScalarType.Float32).view(3, 4, 2);      // [B, S, 2]
        var packed = packing.Pack(grid);                                          // [T, 2]
        Assert.Equal([8L, 2], packed.shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 9, 10, 17, 18, 19, 20, 21, 22, 23, 24], packed.data<float>().ToArray());
        var back = packing.ToGrid(packed);
        var expected = grid * mask.unsqueeze(-1);
        Assert.Equal(expected.data<float>().ToArray(), back.data<float>().ToArray()); // zeros at the pads
    }

    [Fact]
    public void A_batch_without_padding_is_packed_without_a_copy()
    {
        using var scope = NewDisposeScope();
        var packing = TokenPacking.Of(ones(2, 3, ScalarType.Int64));
        Assert.True(packing.IsDense);
        Assert.Equal(6, packing.Tokens);
        Assert.Equal([0L, 1, 2, 0, 1, 2], packing.Positions(CPU).data<long>().ToArray());
        var grid = randn(2, 3, 5);
        var packed = packing.Pack(grid);
        Assert.Equal([6L, 5], packed.shape);
        packed[4, 1] = tensor(42f);                                               // a view: writes reach the grid
        Assert.Equal(42f, grid[1, 1, 1].item<float>());
        packing.ToGrid(packed)[0, 2, 3] = tensor(-7f);
        Assert.Equal(-7f, grid[0, 2, 3].item<float>());
    }

    [Fact]
    public void Every_projection_and_its_dropout_see_only_the_real_tokens_and_pads_come_back_zero()
    {
        var lora = new LoraSettings(4, 8, 0.1, LoraSettings.AllProjections);
        using var model = (MistralModel)PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32, lora: lora);
        model.train();
        var rows = Rows(512, 30, 11, 64, 5); // 110 real tokens in a 4 × 64 grid
        var seen = new List<long>();
        foreach (var (_, adapter) in model.Adapters())
            adapter.register_forward_pre_hook((_, x) => { seen.Add(x.shape[0]); return x; });
        var drawsBefore = model.DropoutGenerator.GetState();

        using var scope = NewDisposeScope();
        using var batch = EmbeddingPass.Pad(model, rows);
        var hidden = model.call(batch.InputIds, batch.AttentionMask);             // [B, S, H]

        Assert.Equal(35, seen.Count);                                             // 5 layers × 7 projections
        Assert.All(seen, n => Assert.Equal(110L, n));
        Assert.NotEqual(drawsBefore, model.DropoutGenerator.GetState());          // dropout drew its masks on [T, in]
        var pads = batch.AttentionMask.eq(0).unsqueeze(-1).expand_as(hidden);
        Assert.Equal(4 * 64 - 110, (int)batch.AttentionMask.eq(0).sum().item<long>());
        Assert.Equal(0f, hidden.masked_select(pads).abs().max().item<float>());
    }

    /// <summary>stories260k with seeded adapters whose B is not zero, so every adapter has a gradient and a say.</summary>
    private static MistralModel ModelWithAdapters() => ContrastiveFixture.Model(dropout: 0, seed: 3, modelDir: TestPaths.Stories260k);

    private static Dictionary<string, Tensor> Gradients(MistralModel model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Packed_tokens_equal_the_full_grid_in_hidden_states_and_adapter_gradients(bool checkpointing, bool explicitMask)
    {
        using var model = ModelWithAdapters();
        model.GradientCheckpointing = checkpointing;
        model.ExplicitMask = explicitMask;
        var rows = Rows(512, 30, 11, 64, 5, 1);
        using var batch = EmbeddingPass.Pad(model, rows);
        using var real = batch.AttentionMask.to(ScalarType.Bool).unsqueeze(-1);        // [B, S, 1]
        using var direction = randn([rows.Count, 64], generator: new Generator(4));

        (Tensor Hidden, Dictionary<string, Tensor> Gradients) Run(bool pack)
        {
            model.PackTokens = pack;
            model.zero_grad();
            using var scope = NewDisposeScope();
            var (hidden, embeddings) = EmbeddingPass.Forward(model, batch);
            (embeddings * direction).sum().backward();
            model.RecomputedGradients.Release();
            return (hidden.detach().masked_fill(real.logical_not(), 0).DetachFromDisposeScope(), Gradients(model));
        }

        var grid = Run(pack: false);
        var packed = Run(pack: true);
        // Relative to the largest hidden value (about 11 here): the projections multiply T rows instead of B·S, and
        // the matmul may block them differently (measured 9.7e-8).
        double hiddenDiff = (grid.Hidden - packed.Hidden).abs().max().item<float>() / grid.Hidden.abs().max().item<float>();
        double gradientDiff = ContrastiveFixture.MaxRelativeDiff(grid.Gradients, packed.Gradients);
        TestContext.Current.TestOutputHelper?.WriteLine($"packed vs grid: hidden {hiddenDiff:E2}, relative gradient {gradientDiff:E2}");
        Assert.True(hiddenDiff <= 1e-6, $"max relative hidden diff on real tokens {hiddenDiff}");
        Assert.True(gradientDiff <= 1e-5, $"max relative grad diff {gradientDiff}"); // sums over 111 tokens, not 320 (measured 1.9e-6)
        foreach (var t in grid.Gradients.Values.Concat(packed.Gradients.Values).Append(grid.Hidden).Append(packed.Hidden)) t.Dispose();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]  // the layers recomputed in backward (ActivationRecompute saves the packing)
    [InlineData(false, true)]  // the explicit additive mask instead of the causal kernel
    public void A_padded_batch_gives_each_row_the_embedding_and_adapter_gradient_it_has_alone(bool checkpointing, bool explicitMask)
    {
        using var model = ModelWithAdapters();
        model.GradientCheckpointing = checkpointing;
        model.ExplicitMask = explicitMask;
        var rows = Rows(512, 30, 11, 64, 5, 1);
        using var direction = randn([rows.Count, 64], generator: new Generator(4)); // a fixed random readout of the embeddings

        model.zero_grad();
        Tensor batchEmbeddings;
        using (var scope = NewDisposeScope())
        {
            var embeddings = EmbeddingPass.Embed(model, rows);                   // one padded batch: packed
            (embeddings * direction).sum().backward();
            batchEmbeddings = embeddings.detach().DetachFromDisposeScope();
        }
        model.RecomputedGradients.Release();
        var batched = Gradients(model);

        model.zero_grad();
        var alone = new List<Tensor>();
        for (int i = 0; i < rows.Count; i++)
        {
            using var scope = NewDisposeScope();
            var embedding = EmbeddingPass.Embed(model, [rows[i]]);               // one row: no padding, no packing
            (embedding * direction[i]).sum().backward();
            alone.Add(embedding.detach().DetachFromDisposeScope());
            model.RecomputedGradients.Release();
        }
        var summed = Gradients(model);

        using var aloneEmbeddings = cat(alone, 0);
        double embeddingDiff = (batchEmbeddings - aloneEmbeddings).abs().max().item<float>();
        Assert.True(embeddingDiff <= 1e-6, $"max abs embedding diff {embeddingDiff}");
        Assert.Equal(70, batched.Count);
        double gradientDiff = ContrastiveFixture.MaxRelativeDiff(batched, summed);
        // One backward sums each adapter gradient over the batch's tokens, six backwards sum it row by row: fp32
        // summation order alone. (The same test on the padded grid, before packing, measured 1.18e-5; packed, 1.20e-5.)
        Assert.True(gradientDiff <= 5e-5, $"max relative grad diff {gradientDiff}");
        batchEmbeddings.Dispose();
        foreach (var t in alone.Concat(batched.Values).Concat(summed.Values)) t.Dispose();
    }
}
