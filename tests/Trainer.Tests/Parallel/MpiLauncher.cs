using System.Diagnostics;

namespace Trainer.Tests.Parallel;

/// <summary>Which MPI's launcher a test starts its job with.</summary>
public enum MpiKind
{
    OpenMpi,
    Mpich,
}

/// <summary>
/// An MPI's launcher as the tests run it: Open MPI's <c>mpirun</c> (as root it needs <c>--allow-run-as-root</c>;
/// <c>--oversubscribe</c> lets two ranks share fewer cores, and <c>--bind-to none</c> keeps it from pinning each to one
/// core) or MPICH's Hydra <c>mpiexec</c>. Each is named explicitly (Debian's <c>mpirun.openmpi</c> and
/// <c>mpiexec.mpich</c>), since <c>mpirun</c> is whichever MPI update-alternatives chose. <see cref="Abi"/> and
/// <see cref="Library"/> are what the trainer reports loading under it; <see cref="RankVariable"/> holds a rank's
/// number in its environment.
/// </summary>
public sealed record MpiLauncher(string? Program, string[] Options, string RankVariable, string Abi, string Library, string Missing)
{
    public static MpiLauncher OpenMpi { get; } = new(Find("mpirun.openmpi") ?? OpenMpiMpirun(), ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"],
        "OMPI_COMM_WORLD_RANK", "Open MPI", "libmpi.so.40", "skipped: mpirun.openmpi (Open MPI's mpirun) not found (apt-get install openmpi-bin)");

    public static MpiLauncher Mpich { get; } = new(Find("mpiexec.mpich") ?? Find("mpiexec.hydra"), [],
        "PMI_RANK", "MPICH", "libmpich.so.12", "skipped: mpiexec.mpich not found (apt-get install mpich)");

    public static MpiLauncher Of(MpiKind kind) => kind == MpiKind.OpenMpi ? OpenMpi : Mpich;

    /// <summary>Skips the calling test where this launcher is missing.</summary>
    public void Require()
    {
        if (Program is null) Assert.Skip(Missing);
    }

    private static string? Find(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>A plain <c>mpirun</c> that is Open MPI's (an Open MPI built from source installs no <c>mpirun.openmpi</c>).</summary>
    private static string? OpenMpiMpirun()
    {
        if (Find("mpirun") is not { } mpirun) return null;
        using var version = Process.Start(new ProcessStartInfo(mpirun, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        string text = version.StandardOutput.ReadToEnd() + version.StandardError.ReadToEnd();
        version.WaitForExit();
        return text.Contains("Open MPI", StringComparison.Ordinal) ? mpirun : null;
    }
}
