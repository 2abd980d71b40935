namespace Trainer.Parallel;

/// <summary>
/// libtorch's CPU thread count. Launchers lower what libtorch sees: Open MPI binds a rank to one core when it starts
/// two processes or fewer (unless <c>--bind-to none</c>), and SLURM gives a task the cores it asked for. The count is
/// therefore set explicitly: <c>training.threads</c>, else <c>OMP_NUM_THREADS</c>, else, under a launcher that started
/// several processes, the cores this process may use divided by the processes on its node (at least 1); else null,
/// leaving libtorch's default.
/// </summary>
public static class ThreadCount
{
    public static int? Resolve(int? configured, Launcher? launcher) =>
        Resolve(configured, launcher, Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), Environment.ProcessorCount);

    public static int? Resolve(int? configured, Launcher? launcher, string? ompNumThreads, int cores)
    {
        if (configured is int n) return n;
        if (int.TryParse(ompNumThreads, out int omp) && omp > 0) return omp;
        if (launcher is { Size: > 1 }) return Math.Max(1, cores / Math.Max(1, launcher.LocalSize));
        return null;
    }
}
