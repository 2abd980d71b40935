using System.Reflection;
using System.Runtime.InteropServices;

namespace Trainer.Parallel;

/// <summary>
/// The few MPI functions the trainer needs, bound to whichever MPI library the machine has: Open MPI
/// (<c>libmpi.so.40</c>) or MPICH (<c>libmpich.so.12</c>, also installed as <c>libmpi.so.12</c>). The two differ in their
/// handles: Open MPI's communicators, datatypes and operations are the addresses of exported globals
/// (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>, <c>ompi_mpi_op_sum</c>), MPICH's are integer constants from its
/// <c>mpi.h</c>. Both are passed as <c>nint</c>: an <c>int</c> argument travels in a full register on x86-64 and
/// AArch64, and the callee reads its low 32 bits. The library tried first is the launcher's: MPICH's under a PMI launcher
/// (MPICH's Hydra <c>mpiexec</c>), Open MPI's otherwise, since a process started by one launcher and initialised by the
/// other MPI is alone in its world. <c>TRAINER_MPI_LIBRARY</c> names another library file.
/// </summary>
public static partial class MpiNative
{
    private const string Library = "trainer-mpi"; // resolved by Resolve, below

    public const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED, the same in both ABIs
    private const int Success = 0;

    private static readonly string[] OpenMpiFiles = ["libmpi.so.40"];
    private static readonly string[] MpichFiles = ["libmpich.so.12", "libmpi.so.12"];

    /// <summary>The library files to try, in order: <paramref name="given"/> (<c>TRAINER_MPI_LIBRARY</c>) alone, else the launcher's MPI first.</summary>
    public static IReadOnlyList<string> Candidates(Launcher? launcher, string? given) =>
        given is { Length: > 0 } ? [given] : launcher?.Name == Launcher.Pmi ? [.. MpichFiles, .. OpenMpiFiles] : [.. OpenMpiFiles, .. MpichFiles];

    /// <summary>The loaded library's file name and ABI ("Open MPI" or "MPICH").</summary>
    public static (string File, string Abi) Loaded => (_file ?? "", _openMpi ? "Open MPI" : "MPICH");

    public static nint CommWorld { get; private set; }
    public static nint Byte { get; private set; }
    public static nint Float { get; private set; }
    public static nint Double { get; private set; }
    public static nint Sum { get; private set; }
    public static nint InPlace { get; private set; }

    private static nint _handle;
    private static string? _file;
    private static bool _openMpi;

    /// <summary>Loads the library (once) and reads its handles; throws with each file tried and why it did not load when none does.</summary>
    public static void Load(Launcher? launcher)
    {
        if (_handle != 0) return;
        var names = Candidates(launcher, Environment.GetEnvironmentVariable("TRAINER_MPI_LIBRARY"));
        var problems = new List<string>();
        Dlerror(); // binds dlerror now: binding it after a failed dlopen would load libc and replace that error
        foreach (var name in names)
        {
            // RTLD_GLOBAL: Open MPI's plugins (dlopen'ed by MPI_Init) resolve symbols of libmpi itself
            if (Dlopen(name, RtldNow | RtldGlobal) == 0 || !NativeLibrary.TryLoad(name, out var handle))
            {
                problems.Add(Marshal.PtrToStringUTF8(Dlerror()) ?? $"{name}: not loaded");
                continue;
            }
            (_handle, _file) = (handle, name);
            _openMpi = NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out var world);
            if (_openMpi)
            {
                CommWorld = world;
                Byte = NativeLibrary.GetExport(handle, "ompi_mpi_byte");
                Float = NativeLibrary.GetExport(handle, "ompi_mpi_float");
                Double = NativeLibrary.GetExport(handle, "ompi_mpi_double");
                Sum = NativeLibrary.GetExport(handle, "ompi_mpi_op_sum");
                InPlace = 1;
            }
            else
            {
                // MPICH's mpi.h
                CommWorld = 0x44000000;
                Byte = 0x4c00010d;
                Float = 0x4c00040a;
                Double = 0x4c00080b;
                Sum = 0x58000003;
                InPlace = -1;
            }
            NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, Resolve);
            return;
        }
        throw new DllNotFoundException($"no MPI library could be loaded{(launcher is null ? "" : $" for {launcher.Name}")} (tried {string.Join("; ", problems)}). " +
                                       "Install the MPI of the launcher (Open MPI: apt-get install openmpi-bin libopenmpi3; MPICH: apt-get install mpich libmpich12), " +
                                       "or set TRAINER_MPI_LIBRARY to the library file.");
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name == Library ? _handle : 0;

    /// <summary>Throws with MPI's own message when a call did not return MPI_SUCCESS (the default error handler aborts before that).</summary>
    public static void Check(int code, string call)
    {
        if (code == Success) return;
        var text = new byte[512];
        string message = ErrorString(code, text, out int length) == Success ? System.Text.Encoding.ASCII.GetString(text, 0, length) : $"error {code}";
        throw new InvalidOperationException($"{call} failed: {message}");
    }

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    public static partial int InitThread(nint argc, nint argv, int required, out int provided);

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")]
    public static partial int Initialized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalized")]
    public static partial int Finalized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    public static partial int CommRank(nint comm, out int rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    public static partial int CommSize(nint comm, out int size);

    [LibraryImport(Library, EntryPoint = "MPI_Allgatherv")]
    public static partial int Allgatherv(nint sendBuffer, int sendCount, nint sendType, nint receiveBuffer, int[] receiveCounts, int[] displacements, nint receiveType, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    public static partial int Allreduce(nint sendBuffer, nint receiveBuffer, int count, nint type, nint op, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Bcast")]
    public static partial int Bcast(nint buffer, int count, nint type, int root, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Barrier")]
    public static partial int Barrier(nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    public static partial int Abort(nint comm, int code);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    public static partial int Finalize();

    [LibraryImport(Library, EntryPoint = "MPI_Error_string")]
    private static partial int ErrorString(int code, [Out] byte[] text, out int length);

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Dlopen(string file, int mode);

    [LibraryImport("libc", EntryPoint = "dlerror")]
    private static partial nint Dlerror();
}
