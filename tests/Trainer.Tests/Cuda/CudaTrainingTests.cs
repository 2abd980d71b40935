using TorchSharp;
using Trainer.Export;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Tests.Models;
using Trainer.Tests.Parallel;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// Training on CUDA: against the CPU without dropout, and with dropout 0.1 the invariants the CPU suite proves
/// (checkpointing = plain, GradCache = its reference, replicas at once = one after the other, resume = straight),
/// reusing the CPU tests' helpers with a CUDA device. docs/cuda.md runs this suite on a GPU.
/// </summary>
public class CudaTrainingTests
{
    private static readonly Device Gpu = device("cuda:0");

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public void Three_steps_on_cuda_without_dropout_equal_the_cpu_run()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains 3 steps on cuda:0 and on the CPU");
        var (loss, adapter) = DataParallelTests.AssertSame(DataParallelTests.Train(), DataParallelTests.Train("training.device=cuda"), tolerance: 1e-4);
        Log($"3 steps cuda vs cpu (dropout 0): losses max abs {loss:G3}, adapter max abs {adapter:G3}");
    }

    [Fact]
    public void Two_replicas_on_one_gpu_with_gradcache_and_checkpointing_equal_one_replica_without_dropout()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains with training.devices [cuda:0, cuda:0]");
        var one = DataParallelTests.Train("training.device=cuda");
        var (loss, adapter) = DataParallelTests.AssertSame(one, DataParallelTests.Train("training.devices=[cuda:0, cuda:0]"));
        Log($"[cuda:0, cuda:0] vs cuda:0 (dropout 0): losses max abs {loss:G3}, adapter max abs {adapter:G3}");
        (loss, adapter) = DataParallelTests.AssertSame(one, DataParallelTests.Train("training.devices=[cuda:0, cuda:0]", "training.micro_batch_size=1", "model.gradient_checkpointing=true"));
        Log($"[cuda:0, cuda:0] + GradCache (micro 1) + checkpointing vs cuda:0 (dropout 0): losses max abs {loss:G3}, adapter max abs {adapter:G3}");
    }

    [Fact]
    public void Dropout_masks_on_cuda_replay_from_the_state_and_keep_one_minus_p()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: draws dropout masks on cuda:0");
        using var a = new DropoutGenerator();
        using var b = new DropoutGenerator();
        a.ManualSeed(42);
        b.ManualSeed(42);
        var start = a.GetState();
        using var first = a.KeepMask([256, 1000], 0.1, Gpu);
        using var other = b.KeepMask([256, 1000], 0.1, Gpu);  // same seed and counter, another generator: the same mask
        using var second = a.KeepMask([256, 1000], 0.1, Gpu);
        a.SetState(start);
        using var replayed = a.KeepMask([256, 1000], 0.1, Gpu);
        Assert.Equal(DeviceType.CUDA, first.device_type);
        Assert.True(first.eq(other).all().item<bool>());
        Assert.True(first.eq(replayed).all().item<bool>());
        Assert.False(first.eq(second).all().item<bool>());
        double kept = first.to(ScalarType.Float32).mean().item<float>();
        Log($"cuda keep fraction at p = 0.1 over 256,000 draws: {kept:F4}");
        Assert.InRange(kept, 0.895, 0.905); // ±0.005 is about 8 standard deviations
    }

    [Fact]
    public void With_dropout_on_cuda_checkpointing_equals_the_plain_run()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: gradient checkpointing with dropout 0.1 on cuda:0");
        GradientCheckpointingTests.CheckpointedEqualsPlain(Gpu, 1e-5);
    }

    [Fact]
    public void With_dropout_on_cuda_gradcache_equals_its_reference()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: GradCache with dropout 0.1 on cuda:0");
        GradCacheTests.GradCacheEqualsReference(Gpu, 1e-5);
    }

    [Fact]
    public void With_dropout_two_replicas_on_one_gpu_equal_their_one_thread_reference()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: two replicas with dropout 0.1 on cuda:0 at once");
        DataParallelTests.TwoReplicasEqualTheirSerialReference(Gpu, 1e-5);
    }

    [Fact]
    public void Dropout_training_on_cuda_runs_with_replicas_gradcache_and_checkpointing()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains with dropout 0.1 on [cuda:0, cuda:0] (the recipe's value crashed before the fix)");
        string[] all = ["training.devices=[cuda:0, cuda:0]", "training.micro_batch_size=3", "model.gradient_checkpointing=true", "training.max_steps=3"];
        var withDropout = ResumeTests.Losses(Run(TestPaths.TempDir("cuda-dropout"), all));
        var without = ResumeTests.Losses(Run(TestPaths.TempDir("cuda-no-dropout"), [.. all, "lora.dropout=0"]));
        Log($"dropout 0.1 losses {string.Join(", ", withDropout.Select(l => l.Loss))}; dropout 0: {string.Join(", ", without.Select(l => l.Loss))}");
        Assert.Equal([1, 2, 3], withDropout.Select(l => l.Step));
        Assert.All(withDropout, l => Assert.True(float.IsFinite(l.Loss)));
        Assert.NotEqual(without[0].Loss, withDropout[0].Loss); // the masks were drawn

        static string Run(string dir, string[] overrides)
        {
            ResumeTests.Train(dir, new TrainOptions(), overrides);
            return dir;
        }
    }

    [Fact]
    public void Resume_on_cuda_with_dropout_equals_the_straight_run()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: stop and resume with dropout 0.1 on cuda:0");
        string[] onCuda = ["training.device=cuda"];
        var straight = TestPaths.TempDir("cuda-straight");
        var again = TestPaths.TempDir("cuda-straight-again");
        var resumed = TestPaths.TempDir("cuda-resumed");
        var a = ResumeTests.Train(straight, new TrainOptions(), onCuda);
        var a2 = ResumeTests.Train(again, new TrainOptions(), onCuda);
        ResumeTests.Train(resumed, new TrainOptions { StopAfterSteps = 4 }, onCuda); // newest checkpoint: step 3
        var b = ResumeTests.Train(resumed, new TrainOptions { Resume = true }, onCuda);
        Assert.Equal(4, b.FirstStep);

        var rerun = Compare(straight, a.LastCheckpoint!, again, a2.LastCheckpoint!);
        var resume = Compare(straight, a.LastCheckpoint!, resumed, b.LastCheckpoint!);
        Log($"cuda, dropout 0.1, 6 steps: straight vs straight again: {rerun.Text}; straight vs stop at 4 + resume from 3: {resume.Text}");
        Assert.True(resume.Loss <= 1e-5 && resume.Adapter <= 1e-5, resume.Text);
    }

    /// <summary>Losses (relative) and adapter (absolute) of two runs; "bitwise" when every bit agrees.</summary>
    private static (double Loss, double Adapter, string Text) Compare(string runA, string checkpointA, string runB, string checkpointB)
    {
        var (la, lb) = (ResumeTests.Losses(runA), ResumeTests.Losses(runB));
        Assert.Equal(la.Select(l => l.Step), lb.Select(l => l.Step));
        double loss = la.Zip(lb, (x, y) => Math.Abs(x.Loss - y.Loss) / Math.Max(Math.Abs(x.Loss), 1e-12)).Max();
        bool bitwise = la.Select(l => l.Loss).SequenceEqual(lb.Select(l => l.Loss)) && ResumeTests.Adapter(checkpointA).AsSpan().SequenceEqual(ResumeTests.Adapter(checkpointB));
        using var ra = new SafetensorsReader(Path.Combine(checkpointA, PeftAdapter.WeightsFile));
        using var rb = new SafetensorsReader(Path.Combine(checkpointB, PeftAdapter.WeightsFile));
        using var scope = NewDisposeScope();
        double adapter = ra.Header.Entries.Keys.Max(k => (double)(ra.Read(k) - rb.Read(k)).abs().max().item<float>());
        return (loss, adapter, bitwise ? "bitwise equal" : $"losses max rel {loss:G3}, adapter max abs {adapter:G3}");
    }

    [Fact]
    public void A_checkpoint_trained_on_cuda_exports_and_passes_its_onnx_verification()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains 2 steps with dropout 0.1 on cuda:0, then exports");
        var trained = ResumeTests.Train(TestPaths.TempDir("cuda-export-train"), new TrainOptions(), "training.device=cuda", "training.max_steps=2");
        var result = ExportJob.Run(new ExportOptions(trained.LastCheckpoint!, ["onnx"], TestPaths.TempDir("cuda-export")), TextWriter.Null);
        Log($"export of a cuda-trained checkpoint: embeddings max abs {result.Parity!.EmbeddingMaxAbs:G3}, hidden max abs {result.Parity.HiddenMaxAbs:G3}");
        Assert.True(result.Parity.Passed);
        Assert.True(result.Parity.EmbeddingMaxAbs <= 1e-4, $"embedding {result.Parity.EmbeddingMaxAbs}");
    }
}
