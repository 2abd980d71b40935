using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// A libtorch error must reach .NET as an exception with libtorch's message. On the GPU route TorchSharp's native
/// library (built against libtorch 2.10) runs against the machine's PyTorch libtorch (2.11 when this was written); these
/// probe, on the CPU and on CUDA, that an error caught by TorchSharp's CATCH macro still comes back as a message there.
/// The errors come from wrappers that report them (<c>reshape</c>, <c>randn</c>, <c>uniform_</c>); TorchSharp's
/// <c>rand</c> and <c>randperm</c> wrappers return an uninitialised handle instead, which crashes the process (SIGSEGV,
/// no message) on any machine, and <c>matmul</c> has no CATCH at all (SIGABRT): docs/cuda.md. scripts/gpu_checks.sh runs
/// these in a process of their own, so that a crash cannot take the rest of the CUDA suite with it.
/// </summary>
public class LibTorchErrorTests
{
    [Fact]
    public void A_libtorch_error_on_the_cpu_is_an_exception()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ExternalException>(() => ones(6).reshape(4));
        Assert.Contains("shape '[4]' is invalid for input of size 6", e.Message);
        Assert.Contains("negative dimension", Assert.Throws<ExternalException>(() => randn([2, -1])).Message);
    }

    [Fact]
    public void A_libtorch_error_on_cuda_is_an_exception()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: shape errors for CUDA tensors");
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ExternalException>(() => ones(6, device: device("cuda:0")).reshape(4));
        Assert.Contains("shape '[4]' is invalid for input of size 6", e.Message);
        Assert.Contains("negative dimension", Assert.Throws<ExternalException>(() => randn([2, -1], device: device("cuda:0"))).Message);
    }

    [Fact]
    public void A_cuda_kernel_refuses_a_torchsharp_generator_with_an_exception()
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: the draw the earlier LoRA dropout made (a TorchSharp generator, a CUDA tensor)");
        using var scope = NewDisposeScope();
        using var generator = new Generator(0, device("cuda:0")); // a CPU generator whatever the device (DropoutGeneratorTests)
        var target = empty(4, 4, device: device("cuda:0"));
        var e = Assert.Throws<ExternalException>(() => target.uniform_(0, 1, generator));
        Assert.Contains("Expected a 'cuda' device type for generator but found 'cpu'", e.Message);
    }
}
