using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// The collectives data parallelism across processes needs, on one engine (<see cref="SingleProcess"/>,
/// <see cref="MpiCommunicator"/>, <see cref="NcclCommunicator"/>). Every rank calls each method in the same order with
/// tensors of the same dtype; training code never names an engine. Host and device tensors are both accepted (an
/// engine copies what it cannot read in place). <see cref="Times"/> adds up the wall time spent in each collective.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 to <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>The engine, for the start-up line ("none", "mpi (Open MPI 4.1, libmpi.so.40)", "nccl").</summary>
    string Engine { get; }

    CommunicationTimes Times { get; }

    /// <summary>
    /// Every rank's <paramref name="local"/> concatenated along dimension 0 in rank order, on <paramref name="local"/>'s
    /// device; <paramref name="rows"/>[r] is rank r's length along dimension 0 (the other dimensions agree).
    /// </summary>
    Tensor AllGather(Tensor local, IReadOnlyList<long> rows);

    /// <summary>Sums a float32 or float64 tensor over the ranks, in place; every rank ends with the sum.</summary>
    void AllReduceSum(Tensor buffer);

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="buffer"/> into every rank's, in place.</summary>
    void Broadcast(Tensor buffer, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every rank of the job with <paramref name="code"/> (this process included); does not return.</summary>
    void Abort(int code);
}
