using TorchSharp;
using Trainer.Parallel;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// The NCCL binding on a GPU: a 1-rank communicator (bootstrapped through NCCL_COMM_ID, as under torchrun) all-reduces,
/// all-gathers and broadcasts CUDA tensors, and host tensors through copies, equal to the CPU values. NCCL refuses
/// two ranks on one GPU, so a 2-rank check needs 2 GPUs. scripts/gpu_checks.sh (section nccl) runs it with PyTorch's
/// libnccl.so.2 on the library path.
/// </summary>
public class CudaNcclTests
{
    [Fact]
    public void A_one_rank_nccl_communicator_all_reduces_and_all_gathers_cuda_tensors_equal_to_the_cpu()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: NCCL on cuda:0");
        string? problem = NcclNative.LoadProblem();
        Assert.SkipWhen(problem is not null, $"libnccl.so.2 does not load ({problem}); scripts/gpu_checks.sh puts PyTorch's on LD_LIBRARY_PATH");
        NativeEnvironment.SetDefault("NCCL_COMM_ID", "127.0.0.1:29533");
        var gpu = device("cuda:0");
        using var nccl = new NcclCommunicator(null, 0, 1, gpu);
        Assert.Equal((0, 1), (nccl.Rank, nccl.Size));
        Assert.StartsWith("nccl", nccl.Engine);
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var cpu = randn([1000, 7], generator: generator).to(dtype);
            var onGpu = cpu.to(gpu);
            nccl.AllReduceSum(onGpu); // one rank: the sum is the tensor itself
            Assert.True(onGpu.cpu().equal(cpu).item<bool>(), $"all-reduce {dtype}");
            var host = cpu.clone();
            nccl.AllReduceSum(host); // a host tensor goes through the GPU and back
            Assert.True(host.equal(cpu).item<bool>(), $"all-reduce of a host tensor {dtype}");
            var gathered = nccl.AllGather(onGpu, [1000]);
            Assert.Equal(DeviceType.CUDA, gathered.device_type);
            Assert.True(gathered.cpu().equal(cpu).item<bool>(), $"all-gather {dtype}");
        }
        var bytes = tensor(new byte[] { 1, 2, 3, 250 }).to(gpu);
        nccl.Broadcast(bytes, 0);
        Assert.Equal(new byte[] { 1, 2, 3, 250 }, bytes.cpu().bytes.ToArray());
        nccl.Barrier();
        Assert.True(nccl.Times.AllReduceMs > 0 && nccl.Times.AllGatherMs > 0);
        TestContext.Current.TestOutputHelper?.WriteLine($"{nccl.Engine}: all-reduce {nccl.Times.AllReduceMs:F2} ms, all-gather {nccl.Times.AllGatherMs:F2} ms in all");
    }
}
