using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class EmbeddingPassTests
{
    private static List<int[]> Rows() => Golden.TinyCases().Select(c => c.InputIds).ToList();

    [Fact]
    public void Inference_during_training_leaves_the_model_training_and_draws_no_dropout()
    {
        using var model = ContrastiveFixture.Model(dropout: 0.1); // training, LoRA dropout on
        var before = model.DropoutGenerator.GetState();

        var first = new TextEmbedder(model, batchSize: 3).Embed(Rows());
        var second = new TextEmbedder(model, batchSize: 3).Embed(Rows());

        Assert.True(model.training);
        Assert.All(model.modules(), m => Assert.True(m.training));
        Assert.True(is_grad_enabled());
        Assert.Equal(before, model.DropoutGenerator.GetState()); // eval mode drew no dropout mask
        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);

        // Training goes on with dropout: the next forward with a graph draws masks again.
        using (var scope = NewDisposeScope()) EmbeddingPass.Embed(model, Rows());
        Assert.NotEqual(before, model.DropoutGenerator.GetState());
    }

    [Fact]
    public void The_pad_id_does_not_change_the_embeddings()
    {
        using var model = ContrastiveFixture.Model(dropout: 0);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rows = Rows();
        var embedded = EmbeddingPass.Embed(model, rows);
        using var zeroPadded = PaddedBatch.Create(rows, padId: 0);
        var other = LastTokenPooling.Pool(model.call(zeroPadded.InputIds, zeroPadded.AttentionMask), zeroPadded.AttentionMask);
        Assert.NotEqual(0, EmbeddingPass.PadId(model));
        Assert.True((embedded - other).abs().max().item<float>() <= 1e-6);
    }
}
