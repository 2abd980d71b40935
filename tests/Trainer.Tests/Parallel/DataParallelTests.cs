using System.Text.Json;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using Trainer.Parallel;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Parallel;

public class DataParallelTests
{
    /// <summary>3 steps of the training fixture without dropout; the losses and the final adapter.</summary>
    internal static (float[] Losses, Dictionary<string, Tensor> Adapter) Train(params string[] overrides)
    {
        var dir = TestPaths.TempDir("dp");
        var summary = new TrainingRun(TrainingFixture.Config(dir, ["training.max_steps=3", "lora.dropout=0", .. overrides]), new TrainOptions(), TextWriter.Null).Run();
        var losses = File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetSingle()).ToArray();
        using var reader = new SafetensorsReader(Path.Combine(summary.LastCheckpoint!, PeftAdapter.WeightsFile));
        return (losses, reader.Header.Entries.Keys.ToDictionary(k => k, k => reader.Read(k).DetachFromDisposeScope()));
    }

    /// <summary>Same losses and adapter within <paramref name="tolerance"/> (absolute); returns the largest differences.</summary>
    internal static (double Loss, double Adapter) AssertSame((float[] Losses, Dictionary<string, Tensor> Adapter) expected, (float[] Losses, Dictionary<string, Tensor> Adapter) actual, double tolerance = 1e-5)
    {
        Assert.Equal(3, actual.Losses.Length);
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected.Losses[i] - actual.Losses[i]) <= tolerance, $"step {i + 1}: {expected.Losses[i]} vs {actual.Losses[i]}");
        double max = expected.Adapter.Max(kv => (double)(kv.Value - actual.Adapter[kv.Key]).abs().max().item<float>());
        Assert.True(max <= tolerance, $"adapter max abs diff {max}");
        return (expected.Losses.Zip(actual.Losses, (a, b) => (double)Math.Abs(a - b)).Max(), max);
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
    public void Two_replicas_with_dropout_equal_their_one_thread_reference() => TwoReplicasEqualTheirSerialReference(CPU, 1e-6);

    /// <summary>
    /// Replica r draws its dropout masks from seed + r, so with dropout two replicas cannot equal one replica. What must
    /// hold is that running them at once changes nothing: the step's loss and summed gradients equal those of each
    /// replica embedding its shard alone, one after the other on one thread, and every generator ends in the same
    /// state. On CUDA the replicas share the device's generator (<see cref="DropoutGenerator"/>), so this is the test of
    /// its lock; the CUDA suite runs it with both replicas on cuda:0.
    /// </summary>
    internal static void TwoReplicasEqualTheirSerialReference(Device device, double tolerance)
    {
        var batch = GradCacheTests.Batch(); // 4 rows, row 2 without a negative: shards [0, 2) and [2, 4)
        MistralModel[] Pair()
        {
            var pair = new[] { ContrastiveFixture.Model(dropout: 0.1, device: device), ContrastiveFixture.Model(dropout: 0.1, device: device) }; // same adapter
            pair[1].DropoutGenerator.ManualSeed(12);
            return pair;
        }

        var parallel = Pair();
        using var replicas = new ReplicaSet(parallel);
        replicas.ZeroGradients();
        float loss = (float)new ContrastiveStep(replicas, null, 0.02).Run(batch);
        var grads = Grads(parallel[0]);

        var serial = Pair();
        using var serialSet = new ReplicaSet(serial); // disposes the pair
        serialSet.ZeroGradients();
        float serialLoss;
        using (var scope = NewDisposeScope())
        {
            var shards = new[] { batch.Slice(0, 2), batch.Slice(2, 2) };
            // one after the other, each replica's groups as ContrastiveStep pads them (queries, then documents)
            var e = shards.Select((s, r) => cat(s.PaddingGroups().Select(g => EmbeddingPass.Embed(serial[r], g)).ToList(), 0)).ToArray();
            Tensor Part(Func<ContrastiveBatch, (long Start, long Length)> range) =>
                cat(shards.Select((s, r) => e[r].narrow(0, range(s).Start, range(s).Length)).ToList(), 0);
            var l = InfoNceLoss.Compute(Part(s => (0, s.Size)), Part(s => (s.Size, s.Size)), Part(s => (2 * s.Size, s.Negatives.Count)), 0.02);
            l.backward();
            serialLoss = l.item<float>();
        }
        foreach (var model in serial) model.RecomputedGradients.Release();
        serialSet.ReduceGradients();
        var serialGrads = Grads(serial[0]);

        Assert.Equal(serialLoss, loss, 1e-5);
        double diff = ContrastiveFixture.MaxAbsDiff(serialGrads, grads);
        Assert.True(diff <= tolerance, $"max abs grad diff {diff}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{device}: two replicas at once vs one after the other, max abs grad diff {diff:G3}");
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(serial[r].DropoutGenerator.GetState(), parallel[r].DropoutGenerator.GetState());
            Assert.True(parallel[r].DropoutGenerator.Counter > 0);
        }
    }

    private static Dictionary<string, Tensor> Grads(MistralModel model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());

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
