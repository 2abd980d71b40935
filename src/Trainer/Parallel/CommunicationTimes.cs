using System.Diagnostics;

namespace Trainer.Parallel;

/// <summary>Wall time spent in all-gathers and all-reduces (copies to and from the engine's buffers included), in milliseconds, since the start.</summary>
public sealed class CommunicationTimes
{
    public double AllGatherMs { get; private set; }

    public double AllReduceMs { get; private set; }

    public void AddAllGather(Stopwatch clock) => AllGatherMs += clock.Elapsed.TotalMilliseconds;

    public void AddAllReduce(Stopwatch clock) => AllReduceMs += clock.Elapsed.TotalMilliseconds;

    /// <summary>(all-gather, all-reduce) milliseconds since <paramref name="before"/>.</summary>
    public (double AllGatherMs, double AllReduceMs) Since((double AllGatherMs, double AllReduceMs) before) =>
        (AllGatherMs - before.AllGatherMs, AllReduceMs - before.AllReduceMs);

    public (double AllGatherMs, double AllReduceMs) Snapshot() => (AllGatherMs, AllReduceMs);
}
