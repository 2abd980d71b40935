using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// Collectives over MPI's world communicator (<see cref="MpiNative"/>). MPI is initialised with
/// <c>MPI_THREAD_SERIALIZED</c> (the replicas' threads compute, one thread communicates); device tensors go through
/// host copies. MPI counts are <c>int</c>, so larger buffers are sent in chunks.
/// UCX (MPICH, and Open MPI's <c>pml ucx</c>) installs handlers for the signals .NET turns into
/// NullReferenceExceptions and the runtime then dies; <c>UCX_ERROR_SIGNALS=""</c> is set before init, through libc.
/// </summary>
public sealed class MpiCommunicator : ICommunicator
{
    /// <summary>Elements per MPI call: well inside <c>int</c>, for counts and for byte displacements.</summary>
    private const int Chunk = 1 << 28;

    private bool _finalized;

    /// <summary>Initialises MPI with the library of <paramref name="launcher"/>'s MPI (<see cref="MpiNative.Load"/>).</summary>
    public MpiCommunicator(Launcher? launcher)
    {
        NativeEnvironment.SetDefault("UCX_ERROR_SIGNALS", "");
        MpiNative.Load(launcher);
        MpiNative.Check(MpiNative.Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            MpiNative.Check(MpiNative.InitThread(0, 0, MpiNative.ThreadSerialized, out int provided), "MPI_Init_thread");
            if (provided < MpiNative.ThreadSerialized)
            {
                MpiNative.Abort(MpiNative.CommWorld, 1);
                throw new InvalidOperationException($"MPI provides thread level {provided}; the trainer needs MPI_THREAD_SERIALIZED ({MpiNative.ThreadSerialized}).");
            }
        }
        MpiNative.Check(MpiNative.CommRank(MpiNative.CommWorld, out int rank), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.CommSize(MpiNative.CommWorld, out int size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    public int Rank { get; }

    public int Size { get; }

    public string Engine => $"mpi ({MpiNative.Loaded.Abi}, {MpiNative.Loaded.File})";

    public CommunicationTimes Times { get; } = new();

    public Tensor AllGather(Tensor local, IReadOnlyList<long> rows)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        if (rows.Count != Size || rows[Rank] != local.shape[0]) throw new ArgumentException($"rank {Rank}: all-gather of {local.shape[0]} rows, but the ranks' rows are [{string.Join(", ", rows)}].");
        var send = local.cpu().contiguous();
        long rowBytes = local.shape[0] == 0 ? 0 : TensorMemory.ByteLength(send) / local.shape[0];
        if (local.shape[0] == 0) rowBytes = local.shape.Skip(1).Aggregate(1L, (a, b) => a * b) * local.ElementSize;
        var all = empty([rows.Sum(), .. local.shape.Skip(1)], local.dtype, CPU);
        long[] bytes = rows.Select(r => r * rowBytes).ToArray();
        if (bytes.Sum() <= int.MaxValue)
        {
            int[] counts = bytes.Select(b => (int)b).ToArray();
            int[] displacements = new int[Size];
            for (int r = 1; r < Size; r++) displacements[r] = displacements[r - 1] + counts[r - 1];
            MpiNative.Check(MpiNative.Allgatherv(TensorMemory.Address(send), counts[Rank], MpiNative.Byte, TensorMemory.Address(all), counts, displacements, MpiNative.Byte, MpiNative.CommWorld), "MPI_Allgatherv");
        }
        else
        {
            // over 2 GiB in all: each rank's piece is broadcast from its rank, chunk by chunk
            all.narrow(0, rows.Take(Rank).Sum(), rows[Rank]).copy_(send);
            long offset = 0;
            for (int r = 0; r < Size; r++)
            {
                BroadcastBytes(TensorMemory.Address(all) + (nint)offset, bytes[r], r);
                offset += bytes[r];
            }
        }
        GC.KeepAlive(send);
        var result = all.to(local.device).MoveToOuterDisposeScope();
        Times.AddAllGather(clock);
        return result;
    }

    public void AllReduceSum(Tensor buffer)
    {
        var clock = Stopwatch.StartNew();
        var type = buffer.dtype switch
        {
            ScalarType.Float32 => MpiNative.Float,
            ScalarType.Float64 => MpiNative.Double,
            _ => throw new ArgumentException($"all-reduce of {buffer.dtype}: only float32 and float64 are summed."),
        };
        using var scope = NewDisposeScope();
        bool inPlace = buffer.device_type == DeviceType.CPU && buffer.is_contiguous();
        var host = inPlace ? buffer : buffer.cpu().contiguous();
        nint address = TensorMemory.Address(host);
        for (long start = 0, n = host.numel(); start < n; start += Chunk)
        {
            int count = (int)Math.Min(Chunk, n - start);
            MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, address + (nint)(start * host.ElementSize), count, type, MpiNative.Sum, MpiNative.CommWorld), "MPI_Allreduce");
        }
        GC.KeepAlive(host);
        if (!inPlace) buffer.copy_(host);
        Times.AddAllReduce(clock);
    }

    public void Broadcast(Tensor buffer, int root)
    {
        using var scope = NewDisposeScope();
        bool inPlace = buffer.device_type == DeviceType.CPU && buffer.is_contiguous();
        var host = inPlace ? buffer : buffer.cpu().contiguous();
        BroadcastBytes(TensorMemory.Address(host), TensorMemory.ByteLength(host), root);
        GC.KeepAlive(host);
        if (!inPlace) buffer.copy_(host);
    }

    private static void BroadcastBytes(nint address, long length, int root)
    {
        for (long start = 0; start < length; start += Chunk)
            MpiNative.Check(MpiNative.Bcast(address + (nint)start, (int)Math.Min(Chunk, length - start), MpiNative.Byte, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    public void Barrier() => MpiNative.Check(MpiNative.Barrier(MpiNative.CommWorld), "MPI_Barrier");

    /// <summary>
    /// Ends every rank. The pause first gives the launcher time to forward what this rank has just written: MPICH's
    /// Hydra tears its proxies down on the abort and, on a busy machine, lost the rank's one-line error.
    /// </summary>
    public void Abort(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        Thread.Sleep(AbortGrace);
        MpiNative.Abort(MpiNative.CommWorld, code);
        Environment.Exit(code); // MPI_Abort does not return; this is for an MPI that does
    }

    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        MpiNative.Check(MpiNative.Finalized(out int done), "MPI_Finalized");
        if (done == 0) MpiNative.Check(MpiNative.Finalize(), "MPI_Finalize");
    }
}
