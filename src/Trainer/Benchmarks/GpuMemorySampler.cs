using System.Runtime.InteropServices;

namespace Trainer.Benchmarks;

/// <summary>
/// The peak device memory in use on every GPU, sampled through NVML (libnvidia-ml, shipped with the NVIDIA driver) on
/// a background thread. TorchSharp exposes none of libtorch's allocator statistics (no
/// <c>torch.cuda.max_memory_allocated</c>), so this counts what the device reports as used: the allocator's cached
/// blocks and the CUDA context included, and any other process on the GPU. It therefore reads higher than PyTorch's
/// <c>max_memory_allocated</c>; compare two programs with the same sampler (scripts/gpu_checks.sh does).
/// </summary>
public sealed class GpuMemorySampler : IDisposable
{
    private const string Nvml = "libnvidia-ml.so.1";

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total, Free, Used;
    }

    [DllImport(Nvml, EntryPoint = "nvmlInit_v2")]
    private static extern int Init();

    [DllImport(Nvml, EntryPoint = "nvmlShutdown")]
    private static extern int Shutdown();

    [DllImport(Nvml, EntryPoint = "nvmlDeviceGetCount_v2")]
    private static extern int DeviceCount(out uint count);

    [DllImport(Nvml, EntryPoint = "nvmlDeviceGetHandleByIndex_v2")]
    private static extern int DeviceHandle(uint index, out IntPtr device);

    [DllImport(Nvml, EntryPoint = "nvmlDeviceGetMemoryInfo")]
    private static extern int DeviceMemory(IntPtr device, out MemoryInfo memory);

    private readonly IntPtr[] _devices;
    private readonly long[] _peak;
    private readonly Thread? _thread;
    private volatile bool _stop;

    private GpuMemorySampler(IntPtr[] devices, TimeSpan interval)
    {
        (_devices, _peak) = (devices, new long[devices.Length]);
        Sample();
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                Sample();
                Thread.Sleep(interval);
            }
        })
        { IsBackground = true, Name = "gpu-memory-sampler" };
        _thread.Start();
    }

    /// <summary>Starts sampling every GPU NVML sees; null (with the reason) where there is no NVML or no GPU.</summary>
    public static GpuMemorySampler? Start(TimeSpan interval, out string? unavailable)
    {
        try
        {
            if (Init() != 0) return Unavailable("NVML did not initialise", out unavailable);
            if (DeviceCount(out uint count) != 0 || count == 0) return Unavailable("NVML sees no GPU", out unavailable);
            var devices = new IntPtr[count];
            for (uint i = 0; i < count; i++)
                if (DeviceHandle(i, out devices[i]) != 0) return Unavailable($"NVML cannot open GPU {i}", out unavailable);
            unavailable = null;
            return new GpuMemorySampler(devices, interval);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = $"no {Nvml}";
            return null;
        }
    }

    private static GpuMemorySampler? Unavailable(string reason, out string? unavailable)
    {
        unavailable = reason;
        return null;
    }

    private void Sample()
    {
        for (int i = 0; i < _devices.Length; i++)
            if (DeviceMemory(_devices[i], out var memory) == 0) _peak[i] = Math.Max(_peak[i], (long)memory.Used);
    }

    /// <summary>The highest use seen on each GPU (NVML's order), in bytes.</summary>
    public IReadOnlyList<long> Peaks()
    {
        Sample();
        return [.. _peak];
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
        Shutdown();
    }
}
