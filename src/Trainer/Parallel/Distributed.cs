using Trainer.Config;

namespace Trainer.Parallel;

/// <summary>
/// Chooses and starts the engine for <c>training.distributed</c>: <c>none</c> (one process), <c>mpi</c>, <c>nccl</c>
/// (CUDA tensors; bootstrapped over MPI under an MPI launcher, else through NCCL_COMM_ID), or <c>auto</c>: one process
/// when no launcher started several, else NCCL when every device is CUDA and libnccl loads, MPI otherwise. A launcher
/// that started several processes is never answered with a single-process run, and the world size the engine reports
/// must be the launcher's (srun without an MPI plugin starts N copies of "rank 0 of 1").
/// </summary>
public static class Distributed
{
    public static readonly string[] Modes = ["auto", "mpi", "nccl", "none"];

    public enum Engine
    {
        None,
        Mpi,
        Nccl,
    }

    /// <summary>The engine a run uses (<paramref name="ncclLoads"/>: whether libnccl.so.2 loads, asked only when it matters); throws when none fits.</summary>
    public static Engine Choose(string mode, IReadOnlyList<string> devices, Launcher? launcher, Func<bool> ncclLoads)
    {
        int launched = launcher?.Size ?? 1;
        if (mode == "none")
        {
            if (launched > 1)
                throw new ConfigException($"training.distributed = none, but {launcher!.Name} started {launched} processes: each would train alone on the whole data. " +
                                          "Use training.distributed: auto, or start one process.");
            return Engine.None;
        }
        if (mode == "auto" && launched == 1) return Engine.None;
        bool cuda = devices.All(d => d.StartsWith("cuda", StringComparison.Ordinal));
        if (mode == "nccl" || (mode == "auto" && cuda && ncclLoads()))
        {
            if (!cuda || devices is not ["cuda" or "cuda:0"])
                throw new ConfigException($"training.distributed = {mode} (NCCL) needs one CUDA device per process, cuda:0 of what it sees (training.devices = [{string.Join(", ", devices)}]); " +
                                          "give each process its GPU through CUDA_VISIBLE_DEVICES (e.g. CUDA_VISIBLE_DEVICES=$LOCAL_RANK) and set training.device: cuda.");
            return Engine.Nccl;
        }
        if (launcher is { IsMpi: false })
            throw new ConfigException($"training.distributed = {mode}: {launcher.Name} started {launched} processes, which MPI cannot join" +
                                      (cuda ? $", and NCCL did not load ({NcclNative.LoadProblem()})" : ", and NCCL needs CUDA devices (training.devices)") +
                                      ". Start the job with mpirun or srun --mpi=pmix, or train on GPUs with NCCL.");
        return Engine.Mpi;
    }

    public static ICommunicator Start(string mode, IReadOnlyList<string> devices, Launcher? launcher)
    {
        switch (Choose(mode, devices, launcher, () => NcclNative.LoadProblem() is null))
        {
            case Engine.None:
                return SingleProcess.Instance;
            case Engine.Nccl:
                var device = TorchSharp.torch.device(devices[0]);
                return launcher is { IsMpi: true }
                    ? new NcclCommunicator(Checked(new MpiCommunicator(launcher), launcher), 0, 0, device)
                    : new NcclCommunicator(null, launcher?.Rank ?? 0, launcher?.Size ?? 1, device);
            default:
                return Checked(new MpiCommunicator(launcher), launcher);
        }
    }

    /// <summary>Refuses an MPI world whose size or rank differs from what the launcher set.</summary>
    private static MpiCommunicator Checked(MpiCommunicator mpi, Launcher? launcher)
    {
        if (launcher is null || (mpi.Size == launcher.Size && mpi.Rank == launcher.Rank)) return mpi;
        string message = $"{launcher.Name} started {launcher.Size} processes (this one rank {launcher.Rank}), but MPI ({MpiNative.Loaded.Abi}, {MpiNative.Loaded.File}) reports rank {mpi.Rank} of {mpi.Size}: " +
                         (mpi.Size == 1 ? "each process is alone, as under srun without an MPI plugin. Use srun --mpi=pmix (srun --mpi=list names the plugins) or mpirun."
                                        : "the launcher and the MPI library disagree; start the job with the launcher of the MPI library installed.");
        mpi.Dispose();
        throw new InvalidOperationException(message);
    }
}
