using static TorchSharp.torch;

namespace Trainer.Tests.Build;

public class NativeLibraryTests
{
    [Fact]
    public void LibTorchSharp_loads_and_computes()
    {
        // On Debian 12 this only works because the build marked GLIBCXX_3.4.32 weak in libLibTorchSharp.so.
        using var a = tensor(new float[] { 1, 2, 3 });
        using var b = a.matmul(a);
        Assert.Equal(14f, b.item<float>());
    }
}
