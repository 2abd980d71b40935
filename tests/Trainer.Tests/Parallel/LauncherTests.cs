using Trainer.Config;
using Trainer.Parallel;
using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Parallel;

/// <summary>What the launchers' variables say, which engine a run takes, and how many threads libtorch gets: pure functions, no MPI.</summary>
public class LauncherTests
{
    private static Launcher? Detect(params (string Name, string Value)[] env) => Launcher.Detect(n => env.FirstOrDefault(e => e.Name == n).Value);

    [Fact]
    public void Each_launchers_variables_give_rank_size_and_local_rank()
    {
        Assert.Null(Detect());
        Assert.Equal(new Launcher("mpirun (Open MPI)", 3, 4, 1, 2),
            Detect(("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "2"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")));
        Assert.Equal(new Launcher("PMI (MPICH)", 1, 2, 1, 2), Detect(("PMI_RANK", "1"), ("PMI_SIZE", "2"), ("MPI_LOCALRANKID", "1"), ("MPI_LOCALNRANKS", "2")));
        Assert.Equal(new Launcher("srun (SLURM)", 5, 8, 1, 1), Detect(("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "1"), ("SLURM_NTASKS_PER_NODE", "2(x4)")));
        var torchrun = Detect(("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0"), ("LOCAL_WORLD_SIZE", "1"));
        Assert.Equal(new Launcher("torchrun", 1, 2, 0, 1), torchrun);
        Assert.False(torchrun!.IsMpi);
        var e = Assert.Throws<InvalidOperationException>(() => Detect(("PMI_RANK", "x"), ("PMI_SIZE", "2")));
        Assert.Equal("environment variable PMI_RANK = x is not an integer.", e.Message);
    }

    /// <summary>A process initialised by the other launcher's MPI is alone in its world: the launcher's library is tried first.</summary>
    [Fact]
    public void Each_launcher_tries_its_own_MPI_library_first()
    {
        string[] mpich = ["libmpich.so.12", "libmpi.so.12", "libmpi.so.40"], openMpi = ["libmpi.so.40", "libmpich.so.12", "libmpi.so.12"];
        Assert.Equal(mpich, MpiNative.Candidates(Detect(("PMI_RANK", "0"), ("PMI_SIZE", "2")), null));
        Assert.Equal(openMpi, MpiNative.Candidates(Mpirun, null));
        Assert.Equal(openMpi, MpiNative.Candidates(Detect(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2")), ""));
        Assert.Equal(openMpi, MpiNative.Candidates(null, null));
        Assert.Equal(["/opt/mpi/lib/libmpi.so"], MpiNative.Candidates(Detect(("PMI_RANK", "0"), ("PMI_SIZE", "2")), "/opt/mpi/lib/libmpi.so"));
    }

    private static readonly Launcher Mpirun = new(Launcher.OpenMpi, 0, 2, 0, 2);
    private static readonly Launcher Torchrun = new("torchrun", 0, 2, 0, 2);

    [Fact]
    public void Auto_takes_one_process_without_a_launcher_nccl_for_cuda_when_it_loads_and_mpi_for_cpu()
    {
        bool Never() => throw new InvalidOperationException("NCCL need not be asked");
        Assert.Equal(Distributed.Engine.None, Distributed.Choose("auto", ["cpu"], null, Never));
        Assert.Equal(Distributed.Engine.None, Distributed.Choose("auto", ["cuda"], Mpirun with { Size = 1 }, Never));
        Assert.Equal(Distributed.Engine.Mpi, Distributed.Choose("auto", ["cpu"], Mpirun, Never));
        Assert.Equal(Distributed.Engine.Mpi, Distributed.Choose("auto", ["cpu", "cpu"], Mpirun, Never));
        Assert.Equal(Distributed.Engine.Nccl, Distributed.Choose("auto", ["cuda"], Mpirun, () => true));
        Assert.Equal(Distributed.Engine.Mpi, Distributed.Choose("auto", ["cuda"], Mpirun, () => false));
        Assert.Equal(Distributed.Engine.Nccl, Distributed.Choose("nccl", ["cuda:0"], Torchrun, Never));
        Assert.Equal(Distributed.Engine.Mpi, Distributed.Choose("mpi", ["cuda"], Mpirun, Never));
        Assert.Equal(Distributed.Engine.Mpi, Distributed.Choose("mpi", ["cpu"], null, Never)); // a singleton MPI world
    }

    [Fact]
    public void A_launcher_of_several_processes_never_gets_a_single_process_run()
    {
        var none = Assert.Throws<ConfigException>(() => Distributed.Choose("none", ["cpu"], Mpirun, () => false));
        Assert.Equal("training.distributed = none, but mpirun (Open MPI) started 2 processes: each would train alone on the whole data. Use training.distributed: auto, or start one process.", none.Message);
        var cpu = Assert.Throws<ConfigException>(() => Distributed.Choose("auto", ["cpu"], Torchrun, () => false));
        Assert.StartsWith("training.distributed = auto: torchrun started 2 processes, which MPI cannot join, and NCCL needs CUDA devices", cpu.Message);
        var nccl = Assert.Throws<ConfigException>(() => Distributed.Choose("nccl", ["cuda:1"], Mpirun, () => true));
        Assert.StartsWith("training.distributed = nccl (NCCL) needs one CUDA device per process, cuda:0 of what it sees (training.devices = [cuda:1])", nccl.Message);
        Assert.Throws<ConfigException>(() => Distributed.Choose("nccl", ["cpu"], Mpirun, () => true));
    }

    [Fact]
    public void Threads_come_from_the_config_then_omp_num_threads_then_the_cores_per_local_process()
    {
        Assert.Equal(3, ThreadCount.Resolve(3, Mpirun, "5", 16));
        Assert.Equal(5, ThreadCount.Resolve(null, Mpirun, "5", 16));
        Assert.Equal(8, ThreadCount.Resolve(null, Mpirun, null, 16));      // 2 processes on the node
        Assert.Equal(1, ThreadCount.Resolve(null, Mpirun, "", 1));         // bound to one core
        Assert.Null(ThreadCount.Resolve(null, null, null, 16));            // one process: libtorch's default
    }

    [Fact]
    public void Without_libnccl_the_nccl_engine_says_what_to_install()
    {
        if (NcclNative.LoadProblem() is null) Assert.Skip("libnccl.so.2 loads on this machine: scripts/gpu_checks.sh covers NCCL");
        var e = Assert.Throws<DllNotFoundException>(() => new NcclCommunicator(null, 0, 1, TorchSharp.torch.CPU));
        Assert.StartsWith("training.distributed: nccl needs libnccl.so.2, which did not load (", e.Message);
        Assert.Contains("nvidia-nccl-cu12", e.Message);
    }

    [Fact]
    public void Training_distributed_and_threads_are_validated_and_may_change_on_resume()
    {
        var dir = TestPaths.TempDir("distributed-config");
        var bad = Assert.Throws<ConfigException>(() => TrainingFixture.Config(dir, "training.distributed=gloo"));
        Assert.Contains("training.distributed", bad.Message);
        Assert.Contains("auto, mpi, nccl, none", bad.Message);
        Assert.Throws<ConfigException>(() => TrainingFixture.Config(dir, "training.threads=0"));
        Assert.Equal(4, TrainingFixture.Config(dir, "training.threads=4").Training.Threads);
        Assert.Contains("training.distributed", ResumeCheck.Changeable);
        Assert.Contains("training.threads", ResumeCheck.Changeable);
    }

    [Fact]
    public void Metrics_lines_carry_the_communication_times_across_processes()
    {
        var m = new StepMetrics(1, 0, 2.5, 1e-4, 1.0, 10, 100, 1.5);
        Assert.DoesNotContain("comm_", MetricsLog.Serialize(m));
        var line = MetricsLog.Serialize(m with { Communication = new StepCommunication(12.5, 3.25, 0.125) });
        Assert.EndsWith("\"elapsed_s\":1.5,\"comm_allgather_ms\":12.5,\"comm_allreduce_ms\":3.25,\"comm_share\":0.125}", line);
        Assert.Contains(("comm_share", 0.125), MetricsLog.Scalars(m with { Communication = new StepCommunication(12.5, 3.25, 0.125) }));
    }
}
