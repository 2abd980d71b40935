using System.Buffers.Binary;
using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models.Lora;

/// <summary>
/// The LoRA dropout generator of one model replica: a counter-based source of keep-masks whose whole state is
/// (seed, counter), 16 bytes. Draw n uses the sub-seed splitmix64(seed, n), then counts up, so a mask is a pure
/// function of (seed, n, shape, device): replaying it (gradient checkpointing, GradCache) is setting the state back,
/// and a checkpoint that stores the state resumes the same stream.
///
/// Why not a TorchSharp <see cref="Generator"/>: in TorchSharp 0.107, <c>new Generator(seed, device)</c> ignores the
/// device and always makes a CPU generator (its native THSGenerator_new notes that GPU generators are not supported yet), and libtorch's
/// CUDA kernels refuse a CPU generator (docs/cuda.md). So on CUDA a draw seeds the device's default generator with
/// the sub-seed and draws from it, under one process-wide lock: libtorch reads the generator's Philox seed and offset
/// on the host when it launches the kernel, so once the draw returns, another replica may reseed safely. On the
/// CPU a draw reseeds a CPU generator of its own (mt19937 takes the sub-seed's low 32 bits).
///
/// Masks are drawn into tensors made by <c>empty</c>, never with TorchSharp's <c>rand</c>: its native wrapper
/// (THSTensor_rand) returns an uninitialised handle when libtorch throws, so any failed draw (a device mismatch, out
/// of memory) would end the process with SIGSEGV and no message, which is how the earlier dropout died on CUDA.
/// <c>empty</c>, <c>uniform_</c> and <c>bernoulli_</c> report errors as exceptions. On the CPU a mask is
/// <c>uniform_(0, 1)</c> then ≥ p (libtorch's CPU <c>bernoulli_</c> into bool takes twice as long); on CUDA it is
/// <c>bernoulli_(1 − p)</c> straight into a bool tensor, one kernel writing one byte per element instead of a float32
/// draw (4 bytes) and its threshold (4 + 1).
/// </summary>
public sealed class DropoutGenerator : IDisposable
{
    /// <summary>Bytes of <see cref="GetState"/>: the seed and the counter, little-endian uint64 each.</summary>
    public const int StateSize = 16;

    private static readonly Lock CudaSeedLock = new();

    private readonly Generator _cpu = new(0);
    private ulong _seed, _counter;

    /// <summary>Restarts the stream at draw 0 of <paramref name="seed"/>.</summary>
    public void ManualSeed(long seed) => (_seed, _counter) = ((ulong)seed, 0);

    /// <summary>How many masks have been drawn since the seed was set.</summary>
    public ulong Counter => _counter;

    public byte[] GetState()
    {
        var state = new byte[StateSize];
        BinaryPrimitives.WriteUInt64LittleEndian(state, _seed);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(8), _counter);
        return state;
    }

    /// <summary>Puts back a state from <see cref="GetState"/> (checked by <see cref="CheckState"/>).</summary>
    public void SetState(byte[] state, string source = "the dropout generator state")
    {
        CheckState(state, source);
        (_seed, _counter) = (BinaryPrimitives.ReadUInt64LittleEndian(state), BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(8)));
    }

    /// <summary>A state as a checkpoint stores it (base64), checked; <paramref name="source"/> names the file and key in errors.</summary>
    public static byte[] ParseState(string base64, string source)
    {
        try
        {
            return CheckState(Convert.FromBase64String(base64), source);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{source} is not base64.");
        }
    }

    /// <summary>Refuses anything but a 16-byte state, naming <paramref name="source"/>; returns the state.</summary>
    public static byte[] CheckState(byte[] state, string source)
    {
        if (state.Length == StateSize) return state;
        throw new InvalidDataException($"{source} holds {state.Length} bytes; a dropout generator state is {StateSize} bytes (seed, counter)" +
            (state.Length > StateSize
                ? ": it was written by an earlier trainer version, whose TorchSharp generator state cannot be continued exactly. Start a new run from that checkpoint's adapter with lora.init_adapter."
                : "."));
    }

    /// <summary>
    /// A bool keep-mask of <paramref name="shape"/> on <paramref name="device"/>, true with probability 1 − p: on the
    /// CPU where U[0, 1) ≥ p, on CUDA by <c>bernoulli_(1 − p)</c> into the bool tensor.
    /// </summary>
    public Tensor KeepMask(long[] shape, double p, Device device)
    {
        using var scope = NewDisposeScope();
        ulong subSeed = SubSeed(_seed, _counter++);
        if (device.type == DeviceType.CPU)
        {
            var uniform = empty(shape, ScalarType.Float32, device); // empty + uniform_, not rand: see the class summary
            _cpu.manual_seed(unchecked((long)subSeed));
            uniform.uniform_(0, 1, _cpu);
            using var threshold = p.ToScalar();
            return uniform.ge(threshold).MoveToOuterDisposeScope();
        }
        var keep = empty(shape, ScalarType.Bool, device); // one kernel writing a byte per element
        lock (CudaSeedLock)
        {
            torch.cuda.manual_seed_all(unchecked((long)subSeed));
            keep.bernoulli_(1 - p); // returns keep itself; reports a libtorch error as an exception
        }
        return keep.MoveToOuterDisposeScope();
    }

    /// <summary>The n-th output of splitmix64 started at <paramref name="seed"/>: a well-mixed 64-bit seed per draw.</summary>
    public static ulong SubSeed(ulong seed, ulong n)
    {
        unchecked
        {
            ulong z = seed + (n + 1) * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    public void Dispose() => _cpu.Dispose();
}
