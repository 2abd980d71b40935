using Trainer.Tests.Parallel;
using Trainer.Tests.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// The false-negative filter and Matryoshka on CUDA (the −∞ mask, the per-dim renormalisation and the masked count on
/// the device): 3 steps equal the CPU run, and with GradCache and checkpointing on two replicas of one GPU they equal
/// one replica. scripts/gpu_checks.sh's suite section runs them.
/// </summary>
public class CudaLossOptionsTests
{
    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public void Three_steps_with_the_loss_options_on_cuda_equal_the_cpu_run_and_replicas_with_gradcache_equal_one()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains 3 steps with the loss options on cuda:0 and on the CPU");
        var gpu = DataParallelTests.Train([.. LossOptionsTrainingTests.Options, "training.device=cuda"]);
        var (loss, adapter) = DataParallelTests.AssertSame(DataParallelTests.Train(LossOptionsTrainingTests.Options), gpu, tolerance: 1e-4);
        Log($"loss options, 3 steps cuda vs cpu (dropout 0): losses max abs {loss:G3}, adapter max abs {adapter:G3}");
        (loss, adapter) = DataParallelTests.AssertSame(gpu, DataParallelTests.Train([.. LossOptionsTrainingTests.Options, "training.devices=[cuda:0, cuda:0]",
            "training.micro_batch_size=2", "model.gradient_checkpointing=true"]), tolerance: 1e-4);
        Log($"loss options, [cuda:0, cuda:0] + GradCache + checkpointing vs cuda:0: losses max abs {loss:G3}, adapter max abs {adapter:G3}");
    }
}
