using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>The address of a tensor's first element (host or device memory), for the collectives' C APIs.</summary>
public static partial class TensorMemory
{
    /// <summary>The data pointer of a contiguous tensor; the caller keeps the tensor alive while the address is used.</summary>
    public static nint Address(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException("The collectives need contiguous tensors.", nameof(tensor));
        return Data(tensor.Handle);
    }

    public static long ByteLength(Tensor tensor) => tensor.numel() * tensor.ElementSize;

    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    private static partial nint Data(nint tensor);
}
