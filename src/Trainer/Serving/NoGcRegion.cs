using System.Runtime;

namespace Trainer.Serving;

/// <summary>
/// Runs code with no garbage collection starting meanwhile (<see cref="GC.TryStartNoGCRegion(long)"/>), shared by
/// every thread inside at the same moment: the first one in starts the region, the last one out ends it.
/// </summary>
/// <remarks>
/// Why <see cref="TorchEngine"/> needs it: TorchSharp 0.107 turns a number in an expression such as <c>x + eps</c> or
/// <c>x.pow(2)</c> into a native <c>Scalar</c> that it leaves to the garbage collector, and does not keep it alive while
/// libtorch reads it. A collection in that moment lets the finalizer thread free it under libtorch's feet, and the
/// call fails ("Unknown scalar type", "Expected false to be true") or worse. A lone <c>trainer embed</c> rarely
/// collects, but a server's request threads allocate all the time: under load, about one batch in 250 failed this way
/// before forward passes ran in a region. Trainer.Core now holds every Scalar it makes (docs/torchsharp-scalars.md);
/// the region stays as a second line of defence, for what that rule cannot reach: a temporary tensor or a Scalar that
/// TorchSharp itself leaves to the finalizer. Starting a region costs one collection first (about a millisecond on a
/// server's small heap). If the threads allocate more than <see cref="BudgetBytes"/> meanwhile, the runtime collects
/// anyway and ends the region early.
/// </remarks>
public static class NoGcRegion
{
    /// <summary>Bytes all threads together may allocate inside the region.</summary>
    public const long BudgetBytes = 64L << 20;

    private static readonly object Lock = new();
    private static int _inside;
    private static bool _started;

    public static T Run<T>(Func<T> action)
    {
        Enter();
        try
        {
            return action();
        }
        finally
        {
            Leave();
        }
    }

    private static void Enter()
    {
        lock (Lock)
        {
            if (_inside++ > 0) return;
            try
            {
                _started = GC.TryStartNoGCRegion(BudgetBytes);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                _started = false; // someone else's region is in progress, or the runtime allows no region this big: run without
            }
        }
    }

    private static void Leave()
    {
        lock (Lock)
        {
            if (--_inside > 0 || !_started) return;
            _started = false;
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); // else it ended early: the budget ran out
        }
    }
}
