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

    public static ICommunicator Start(string mode, IReadOnlyList<string> devices, Launcher? launcher)
    {
        int launched = launcher?.Size ?? 1;
        if (mode == "none")
        {
            if (launched > 1)
                throw new ConfigException($"training.distributed = none, but {launcher!.Name} started {launched} processes: each would train alone on the whole data. " +
                                          "Use training.distributed: auto, or start one process.");
            return SingleProcess.Instance;
        }
        if (mode == "auto" && launched == 1) return SingleProcess.Instance;
        bool cuda = devices.All(d => d.StartsWith("cuda", StringComparison.Ordinal));
        bool nccl = mode == "nccl" || (mode == "auto" && cuda && NcclNative.LoadProblem() is null);
        if (nccl)
        {
            if (!cuda || devices.Count != 1)
                throw new ConfigException($"training.distributed = nccl needs one CUDA device per process (training.devices = [{string.Join(", ", devices)}]); " +
                                          "give each process one GPU through CUDA_VISIBLE_DEVICES and training.device: cuda.");
            var mpi = launcher is { IsMpi: true } ? Checked(new MpiCommunicator(), launcher) : null;
            var device = TorchSharp.torch.device(devices[0]);
            return mpi is null ? new NcclCommunicator(null, launcher?.Rank ?? 0, launched, device) : new NcclCommunicator(mpi, 0, 0, device);
        }
        if (launcher is { IsMpi: false })
            throw new ConfigException($"training.distributed = {mode}: {launcher.Name} started {launched} processes, which MPI cannot join, and NCCL needs CUDA devices " +
                                      "(training.devices). Start the job with mpirun or srun --mpi=pmix, or train on GPUs with training.distributed: nccl.");
        return Checked(new MpiCommunicator(), launcher);
    }

    /// <summary>Refuses an MPI world whose size or rank differs from what the launcher set.</summary>
    private static MpiCommunicator Checked(MpiCommunicator mpi, Launcher? launcher)
    {
        if (launcher is null || (mpi.Size == launcher.Size && mpi.Rank == launcher.Rank)) return mpi;
        string message = $"{launcher.Name} started {launcher.Size} processes (this one rank {launcher.Rank}), but MPI reports rank {mpi.Rank} of {mpi.Size}: " +
                         (mpi.Size == 1 ? "each process is alone, as under srun without an MPI plugin. Use srun --mpi=pmix (srun --mpi=list names the plugins) or mpirun."
                                        : "the launcher and the MPI library disagree; start the job with the launcher of the MPI library installed.");
        mpi.Dispose();
        throw new InvalidOperationException(message);
    }
}
