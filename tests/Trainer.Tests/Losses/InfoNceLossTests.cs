using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Tests.Models;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Losses;

public class InfoNceLossTests
{
    [Fact]
    public void InfoNce_loss_and_adapter_gradients_match_reference()
    {
        var golden = Golden.Tiny.GetProperty("info_nce");
        int[][] Rows(string key) => golden.GetProperty(key).EnumerateArray().Select(Golden.Ints).ToArray();
        using var model = LoraTests.LoadWithFixtureAdapter();
        model.train();
        using var scope = NewDisposeScope();
        Tensor Embed(IReadOnlyList<int[]> rows) => EmbeddingPass.Embed(model, rows);
        var loss = InfoNceLoss.Compute(Embed(Rows("query_ids")), Embed(Rows("positive_ids")), Embed(Rows("negative_ids")), golden.GetProperty("temperature").GetDouble());
        Assert.True(Math.Abs(loss.item<float>() - golden.GetProperty("loss").GetDouble()) <= 1e-5, $"loss {loss.item<float>()}");

        loss.backward();
        using var reader = new SafetensorsReader(TestPaths.Fixture("tiny-mistral.lora-grads.safetensors"));
        var keys = PeftAdapter.Keys(model).ToList();
        Assert.Equal(28, keys.Count);
        Assert.Equal(keys.Select(k => k.Key).Order(), reader.Header.Entries.Keys.Order());
        double max = 0;
        foreach (var (key, parameter) in keys)
            max = Math.Max(max, (parameter.grad! - reader.Read(key)).abs().max().item<float>());
        Assert.True(max <= 1e-5, $"max grad diff {max}");
        Assert.All(model.parameters().Where(p => !p.requires_grad), p => Assert.True(p.grad is null));
    }
}
