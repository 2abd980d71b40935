namespace Trainer.Parallel;

/// <summary>
/// What the launcher that started this process says about the job: its name, this process's rank, the number of
/// processes and this process's rank and count on its node. Read from the variables each launcher sets:
/// Open MPI's <c>mpirun</c> (<c>OMPI_COMM_WORLD_*</c>), MPICH's Hydra and other PMI launchers (<c>PMI_RANK</c>,
/// <c>PMI_SIZE</c>, <c>MPI_LOCALRANKID</c>), SLURM's <c>srun</c> (<c>SLURM_PROCID</c>, <c>SLURM_NTASKS</c>,
/// <c>SLURM_LOCALID</c>) and torchrun (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>), in that order.
/// </summary>
public sealed record Launcher(string Name, int Rank, int Size, int LocalRank, int LocalSize)
{
    public const string OpenMpi = "mpirun (Open MPI)";
    public const string Pmi = "PMI (MPICH)";

    /// <summary>Whether the launcher started processes that speak MPI (all but torchrun).</summary>
    public bool IsMpi => Name != "torchrun";

    /// <summary>The launcher this process runs under, or null when none set its variables (a plain start).</summary>
    public static Launcher? Detect(Func<string, string?> env)
    {
        int? Int(string name) => env(name) is { Length: > 0 } v ? int.TryParse(v, out int n) ? n : throw new InvalidOperationException($"environment variable {name} = {v} is not an integer.") : null;
        int Lenient(string name, int fallback) => int.TryParse(env(name), out int n) && n > 0 ? n : fallback; // SLURM_NTASKS_PER_NODE may read "2(x3)"
        Launcher? From(string name, string rank, string size, string localRank, string localSize) =>
            Int(size) is int s && Int(rank) is int r ? new Launcher(name, r, s, Int(localRank) ?? 0, Lenient(localSize, 1)) : null;
        return From(OpenMpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE")
               ?? From(Pmi, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS")
               ?? From("srun (SLURM)", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE")
               ?? From("torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE");
    }

    public static Launcher? Detect() => Detect(Environment.GetEnvironmentVariable);
}
