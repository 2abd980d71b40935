using System.Runtime.InteropServices;

namespace Trainer.Benchmarks;

/// <summary>Resident-set figures of this process from /proc/self/status (Linux); 0 elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Collects managed garbage and asks glibc to return freed heap pages to the OS (Linux only).</summary>
    public static void ReleaseFreedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        TrimNativeHeap();
    }

    /// <summary>glibc's <c>malloc_trim(0)</c>: the native heap's free pages back to the OS (Linux with glibc; elsewhere nothing).</summary>
    public static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc (e.g. musl): nothing to trim
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Peak resident set size (VmHWM) in bytes.</summary>
    public static long PeakRss() => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes.</summary>
    public static long CurrentRss() => Read("VmRSS:");

    private static long Read(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        return 0;
    }

    public static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F3} GiB";
}
