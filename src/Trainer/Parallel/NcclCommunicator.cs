using System.Diagnostics;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// Collectives over NCCL on CUDA tensors, one GPU per process (the launch line sets <c>CUDA_VISIBLE_DEVICES</c>).
/// Bootstrap: with MPI, rank 0 calls <c>ncclGetUniqueId</c> and <c>MPI_Bcast</c> sends its 128 bytes; without MPI
/// (torchrun <c>--no-python</c>, PyTorchJob), <c>NCCL_COMM_ID=host:port</c> names where rank 0 listens and every rank
/// makes the same id from it. Every call runs on stream 0, the legacy default stream libtorch's kernels run on, so
/// the collective sees the finished inputs and later kernels see its output; the host waits only where it reads a
/// result (and where the times are taken). Host tensors are copied to the GPU and back.
/// </summary>
public sealed class NcclCommunicator : ICommunicator
{
    private readonly nint _comm;
    private readonly MpiCommunicator? _mpi;
    private readonly Device _device;
    private bool _disposed;

    /// <param name="mpi">The MPI world to bootstrap over and to abort through; null: NCCL_COMM_ID with <paramref name="rank"/> and <paramref name="size"/>.</param>
    public NcclCommunicator(MpiCommunicator? mpi, int rank, int size, Device device)
    {
        if (NcclNative.LoadProblem() is { } problem)
            throw new DllNotFoundException($"training.distributed: nccl needs {NcclNative.Library}, which did not load ({problem}). It ships with PyTorch's CUDA wheels (nvidia-nccl-cu12: add its lib folder to LD_LIBRARY_PATH) " +
                                           "and NVIDIA's CUDA images (apt-get install libnccl2); or use training.distributed: mpi.");
        (_mpi, Rank, Size, _device) = (mpi, mpi?.Rank ?? rank, mpi?.Size ?? size, device);
        NcclNative.UniqueId id = default;
        if (mpi is null)
        {
            if (Environment.GetEnvironmentVariable("NCCL_COMM_ID") is not { Length: > 0 })
                throw new InvalidOperationException("training.distributed: nccl without an MPI launcher needs NCCL_COMM_ID=host:port (where rank 0 listens), e.g. NCCL_COMM_ID=$MASTER_ADDR:29500.");
            NcclNative.Check(NcclNative.GetUniqueId(out id), "ncclGetUniqueId");
        }
        else
        {
            if (Rank == 0) NcclNative.Check(NcclNative.GetUniqueId(out id), "ncclGetUniqueId");
            using var bytes = tensor(((ReadOnlySpan<byte>)id).ToArray());
            mpi.Broadcast(bytes, 0);
            bytes.bytes.CopyTo(id);
        }
        NcclNative.Check(NcclNative.CommInitRank(out _comm, Size, id, Rank), "ncclCommInitRank");
    }

    public int Rank { get; }

    public int Size { get; }

    public string Engine => _mpi is null ? "nccl (NCCL_COMM_ID bootstrap)" : $"nccl (bootstrap over {_mpi.Engine})";

    public CommunicationTimes Times { get; } = new();

    public Tensor AllGather(Tensor local, IReadOnlyList<long> rows)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        // NCCL gathers equal pieces: each rank's rows padded to the longest, the padding cut out afterwards
        long longest = rows.Max();
        var send = zeros([longest, .. local.shape.Skip(1)], local.dtype, _device);
        send.narrow(0, 0, local.shape[0]).copy_(local);
        var all = empty([Size * longest, .. local.shape.Skip(1)], local.dtype, _device);
        NcclNative.Check(NcclNative.AllGather(TensorMemory.Address(send), TensorMemory.Address(all), (nuint)TensorMemory.ByteLength(send), NcclNative.Uint8, _comm, 0), "ncclAllGather");
        var pieces = rows.Select((n, r) => all.narrow(0, r * longest, n)).ToList();
        var result = cat(pieces, 0).to(local.device).MoveToOuterDisposeScope();
        cuda.synchronize();
        Times.AddAllGather(clock);
        return result;
    }

    public void AllReduceSum(Tensor buffer)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var onDevice = buffer.device == _device && buffer.is_contiguous() ? buffer : buffer.to(_device).contiguous();
        nint address = TensorMemory.Address(onDevice);
        NcclNative.Check(NcclNative.AllReduce(address, address, (nuint)onDevice.numel(), SumType(buffer.dtype), NcclNative.Sum, _comm, 0), "ncclAllReduce");
        if (!ReferenceEquals(onDevice, buffer)) buffer.copy_(onDevice);
        cuda.synchronize();
        Times.AddAllReduce(clock);
    }

    public void Broadcast(Tensor buffer, int root)
    {
        using var scope = NewDisposeScope();
        var onDevice = buffer.device == _device && buffer.is_contiguous() ? buffer : buffer.to(_device).contiguous();
        nint address = TensorMemory.Address(onDevice);
        NcclNative.Check(NcclNative.Broadcast(address, address, (nuint)TensorMemory.ByteLength(onDevice), NcclNative.Uint8, root, _comm, 0), "ncclBroadcast");
        if (!ReferenceEquals(onDevice, buffer)) buffer.copy_(onDevice);
        cuda.synchronize();
    }

    public void Barrier()
    {
        if (_mpi is not null)
        {
            _mpi.Barrier();
            return;
        }
        using var one = ones(1, ScalarType.Float32, _device);
        AllReduceSum(one);
    }

    public void Abort(int code)
    {
        NcclNative.CommAbort(_comm);
        if (_mpi is not null) _mpi.Abort(code);
        Environment.Exit(code); // torchrun ends the other workers when one exits non-zero
    }

    /// <summary>NCCL's type for a sum (gathers and broadcasts copy bytes, whatever the dtype).</summary>
    private static int SumType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => NcclNative.Float32,
        ScalarType.Float64 => NcclNative.Float64,
        _ => throw new ArgumentException($"all-reduce of {dtype}: only float32 and float64 are summed."),
    };

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NcclNative.CommDestroy(_comm);
        _mpi?.Dispose();
    }
}
