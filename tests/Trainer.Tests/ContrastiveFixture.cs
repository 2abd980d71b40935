using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests;

/// <summary>A LoRA model (tiny-mistral unless told) with a non-trivial adapter (B ≠ 0) and dropout, and a contrastive batch from the golden ids.</summary>
public static class ContrastiveFixture
{
    public static MistralModel Model(double dropout, int seed = 11, Device? device = null, string? modelDir = null, ScalarType dtype = ScalarType.Float32,
        bool loraInModelDtype = false)
    {
        var lora = new LoraSettings(4, 8, dropout, LoraSettings.AllProjections, loraInModelDtype);
        var model = (MistralModel)PretrainedLoader.Load(modelDir ?? TestPaths.TinyMistral, dtype, device, lora);
        using var generator = new Generator((ulong)seed);
        foreach (var (_, adapter) in model.Adapters())
        {
            adapter.ResetAdapter(generator);
            using var _ = no_grad();
            adapter.lora_B.weight.copy_(randn(adapter.lora_B.weight.shape, generator: generator) * 0.1);
        }
        model.DropoutGenerator.ManualSeed(seed);
        model.train();
        return model;
    }

    public static (int[][] Queries, int[][] Positives, int[][] Negatives) Batch()
    {
        var golden = Golden.Tiny.GetProperty("info_nce");
        int[][] Rows(string key) => golden.GetProperty(key).EnumerateArray().Select(Golden.Ints).ToArray();
        return (Rows("query_ids"), Rows("positive_ids"), Rows("negative_ids"));
    }

    /// <summary>Loss, then backward; returns the loss and the adapter gradients (name → copy).</summary>
    public static (float Loss, Dictionary<string, Tensor> Grads) LossAndGrads(MistralModel model, Func<Tensor> loss)
    {
        using (NewDisposeScope()) // zero_() returns a new wrapper of the gradient: disposed here, not by the finalizer
        {
            foreach (var p in model.TrainableParameters()) p.grad?.zero_();
        }
        float value;
        using (var scope = NewDisposeScope())
        {
            var l = loss();
            l.backward();
            value = l.item<float>();
        }
        model.RecomputedGradients.Release();
        var grads = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        return (value, grads);
    }

    public static double MaxRelativeDiff(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        double max = 0;
        foreach (var (name, ga) in a)
        {
            double scale = Math.Max(ga.abs().max().item<float>(), 1e-12);
            max = Math.Max(max, (ga - b[name]).abs().max().item<float>() / scale);
        }
        return max;
    }

    public static double MaxAbsDiff(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Max(kv => (double)(kv.Value - b[kv.Key]).abs().max().item<float>());

    public static Tensor PlainLoss(MistralModel model, (int[][] Q, int[][] P, int[][] N) batch) =>
        InfoNceLoss.Compute(EmbeddingPass.Embed(model, batch.Q), EmbeddingPass.Embed(model, batch.P), EmbeddingPass.Embed(model, batch.N), 0.02);
}
