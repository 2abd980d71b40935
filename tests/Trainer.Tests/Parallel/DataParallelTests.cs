using System.Text.Json;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Parallel;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Parallel;

public class DataParallelTests
{
    private static (float[] Losses, Dictionary<string, Tensor> Adapter) Train(params string[] overrides)
    {
        var dir = TestPaths.TempDir("dp");
        var summary = new TrainingRun(TrainingFixture.Config(dir, ["training.max_steps=3", "lora.dropout=0", .. overrides]), new TrainOptions(), TextWriter.Null).Run();
        var losses = File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetSingle()).ToArray();
        using var reader = new SafetensorsReader(Path.Combine(summary.LastCheckpoint!, PeftAdapter.WeightsFile));
        return (losses, reader.Header.Entries.Keys.ToDictionary(k => k, k => reader.Read(k).DetachFromDisposeScope()));
    }

    private static void AssertSame((float[] Losses, Dictionary<string, Tensor> Adapter) expected, (float[] Losses, Dictionary<string, Tensor> Adapter) actual)
    {
        Assert.Equal(3, actual.Losses.Length);
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected.Losses[i] - actual.Losses[i]) <= 1e-5, $"step {i + 1}: {expected.Losses[i]} vs {actual.Losses[i]}");
        double max = expected.Adapter.Max(kv => (double)(kv.Value - actual.Adapter[kv.Key]).abs().max().item<float>());
        Assert.True(max <= 1e-5, $"adapter max abs diff {max}");
    }

    [Fact]
    public void Two_cpu_replicas_equal_one_device()
    {
        var single = Train();
        AssertSame(single, Train("training.devices=[cpu, cpu]"));
        Assert.NotEqual(single.Losses[0], single.Losses[2]); // it trained
    }

    [Fact]
    public void Replicas_stay_identical_through_optimizer_steps()
    {
        var models = new[] { ContrastiveFixture.Model(dropout: 0.1, seed: 1), ContrastiveFixture.Model(dropout: 0.1, seed: 2) }; // different adapters
        using var replicas = new ReplicaSet(models);
        replicas.Broadcast();
        using var optimizer = new TorchSharp.Modules.AdamW(replicas.Primary.TrainableParameters(), 0.01, 0.9, 0.999, 1e-8, 0, false, false);
        var step = new ContrastiveStep(replicas, null, 0.02);
        for (int i = 0; i < 2; i++)
        {
            replicas.ZeroGradients();
            step.Run(GradCacheTests.Batch());
            optimizer.step();
            replicas.Broadcast();
        }
        var primary = models[0].TrainableParameters().ToList();
        var other = models[1].TrainableParameters().ToList();
        Assert.Equal(primary.Count, other.Count);
        for (int i = 0; i < primary.Count; i++) Assert.True(primary[i].eq(other[i]).all().item<bool>());
    }

    [Fact]
    public void Two_replicas_with_gradcache_equal_one_device()
    {
        AssertSame(Train(), Train("training.devices=[cpu, cpu]", "training.micro_batch_size=3"));
    }

    [Fact]
    public void Two_replicas_with_checkpointing_equal_one_device()
    {
        AssertSame(Train(), Train("training.devices=[cpu, cpu]", "model.gradient_checkpointing=true"));
    }

    [Fact]
    public void All_three_combined_equal_the_plain_run()
    {
        AssertSame(Train(), Train("training.devices=[cpu, cpu]", "training.micro_batch_size=1", "model.gradient_checkpointing=true"));
    }
}
