using TorchSharp;
using Trainer.Tests.Parallel;
using Trainer.Tests.Training;

namespace Trainer.Tests.Cuda;

/// <summary>
/// Two sources, same_source batches and 3 negatives per row (<see cref="MixtureFixture"/>) on CUDA, without dropout:
/// equal to the CPU run, and two replicas on one GPU with GradCache and checkpointing equal to one replica.
/// scripts/gpu_checks.sh runs it with the rest of the CUDA suite.
/// </summary>
public class CudaMixtureTests
{
    [Fact]
    public void Three_mixture_steps_on_cuda_equal_the_cpu_run_and_replicas_equal_one()
    {
        Assert.SkipUnless(torch.cuda.is_available(), "needs CUDA: trains the mixture fixture on cuda:0");
        string[] mixture = MixtureFixture.Overrides();
        var gpu = DataParallelTests.Train([.. mixture, "training.device=cuda"]);
        var (loss, adapter) = DataParallelTests.AssertSame(DataParallelTests.Train(mixture), gpu, tolerance: 1e-4);
        TestContext.Current.TestOutputHelper?.WriteLine($"mixture, k=3, cuda vs cpu: losses max abs {loss:G3}, adapter max abs {adapter:G3}");
        (loss, adapter) = DataParallelTests.AssertSame(gpu, DataParallelTests.Train([.. mixture, "training.devices=[cuda:0, cuda:0]", "training.micro_batch_size=5", "model.gradient_checkpointing=true"]));
        TestContext.Current.TestOutputHelper?.WriteLine($"mixture, k=3, [cuda:0, cuda:0] + GradCache + checkpointing vs cuda:0: losses max abs {loss:G3}, adapter max abs {adapter:G3}");
    }
}
