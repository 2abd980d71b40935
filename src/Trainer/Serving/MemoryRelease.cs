using System.Runtime;

namespace Trainer.Serving;

/// <summary>
/// Hands the memory of a burst back to the system: one full, blocking, compacting collection (the large-object heap
/// too), then, on Linux with glibc, <c>malloc_trim(0)</c>, which returns the native heap's free pages (libtorch's
/// freed activations) that glibc would otherwise keep. <see cref="EmbeddingBatcher"/> runs it on its worker once idle,
/// never during a model call.
/// </summary>
public static class MemoryRelease
{
    public static void Run()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Benchmarks.ProcessMemory.TrimNativeHeap();
    }
}
