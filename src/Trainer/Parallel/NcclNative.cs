using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trainer.Parallel;

/// <summary>
/// NCCL's C API (<c>libnccl.so.2</c>, shipped in PyTorch's wheels and NVIDIA's CUDA images; TorchSharp's libtorch
/// links NCCL statically and exports none of it). Enum values are those of <c>nccl.h</c>.
/// </summary>
public static partial class NcclNative
{
    public const string Library = "libnccl.so.2";

    public const int Float32 = 7, Float64 = 8, Uint8 = 1, Sum = 0;

    /// <summary>ncclUniqueId: 128 opaque bytes, passed to ncclCommInitRank by value.</summary>
    [InlineArray(128)]
    public struct UniqueId
    {
        private byte _element;
    }

    /// <summary>Null when libnccl.so.2 loads, else why not (the loader's message), for the error that names what to install.</summary>
    public static string? LoadProblem()
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(Library));
            return null;
        }
        catch (DllNotFoundException e)
        {
            return e.Message;
        }
    }

    /// <summary>Throws with NCCL's message when a call did not return ncclSuccess.</summary>
    public static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed: NCCL error {result} ({Marshal.PtrToStringUTF8(GetErrorString(result))}).");
    }

    [LibraryImport(Library, EntryPoint = "ncclGetUniqueId")]
    public static partial int GetUniqueId(out UniqueId id);

    [LibraryImport(Library, EntryPoint = "ncclCommInitRank")]
    public static partial int CommInitRank(out nint comm, int ranks, UniqueId id, int rank);

    [LibraryImport(Library, EntryPoint = "ncclAllReduce")]
    public static partial int AllReduce(nint send, nint receive, nuint count, int type, int op, nint comm, nint stream);

    [LibraryImport(Library, EntryPoint = "ncclAllGather")]
    public static partial int AllGather(nint send, nint receive, nuint sendCount, int type, nint comm, nint stream);

    [LibraryImport(Library, EntryPoint = "ncclBroadcast")]
    public static partial int Broadcast(nint send, nint receive, nuint count, int type, int root, nint comm, nint stream);

    [LibraryImport(Library, EntryPoint = "ncclCommDestroy")]
    public static partial int CommDestroy(nint comm);

    [LibraryImport(Library, EntryPoint = "ncclCommAbort")]
    public static partial int CommAbort(nint comm);

    [LibraryImport(Library, EntryPoint = "ncclGetErrorString")]
    private static partial nint GetErrorString(int result);
}
