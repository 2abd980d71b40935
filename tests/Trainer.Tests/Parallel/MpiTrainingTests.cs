using System.Diagnostics;
using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Parallel;

/// <summary>
/// Two processes under Open MPI's <c>mpirun</c> or MPICH's <c>mpiexec</c> (<see cref="MpiJob"/>, <see cref="MpiKind"/>)
/// train exactly like one process with two replicas (<c>training.devices: [cpu, cpu]</c>): the same losses and the same
/// adapter bytes; and within rounding like one device. A rank that dies or fails ends the whole job at once, and
/// <c>--resume</c> continues bitwise. Gradient checkpointing, evaluation and resume, which add no MPI calls of their
/// own, run under Open MPI alone.
/// </summary>
public class MpiTrainingTests
{
    /// <summary>3 steps without dropout, so that two replicas also equal one device.</summary>
    private static readonly string[] Short = ["training.max_steps=3", "lora.dropout=0"];

    private static readonly string[] TwoReplicas = ["training.devices=[cpu, cpu]"];

    private static readonly Lazy<string> OneDevice = new(() => TrainInProcess(Short));

    private static string[] Sets(IEnumerable<string> overrides) => overrides.SelectMany(o => new[] { "--set", o }).ToArray();

    private static string[] TrainArgs(string dir, IEnumerable<string> overrides, params string[] more) =>
        ["train", "--config", TrainingFixture.ConfigFile(dir), .. Sets(overrides), .. more];

    /// <summary>A 2-rank run in a new folder; returns the folder and the launcher's standard output.</summary>
    private static (string Dir, string Stdout) TrainMpi(MpiLauncher launcher, params string[] overrides)
    {
        var dir = TestPaths.TempDir("mpi");
        var (code, stdout, stderr) = MpiJob.Run(launcher, 2, TrainArgs(dir, overrides));
        Assert.True(code == 0, $"{launcher.Abi} job exited with {code}:\n{stdout}\n{stderr}");
        return (dir, stdout);
    }

    private static string TrainInProcess(params string[] overrides)
    {
        var dir = TestPaths.TempDir("in-process");
        new TrainingRun(TrainingFixture.Config(dir, overrides), new TrainOptions(), TextWriter.Null).Run();
        return dir;
    }

    private static List<JsonElement> Lines(string dir) =>
        File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static double[] Losses(string dir) => Lines(dir).Where(l => l.TryGetProperty("loss", out _)).Select(l => l.GetProperty("loss").GetDouble()).ToArray();

    private static string Checkpoint(string dir, int step) => Path.Combine(dir, CheckpointStore.Prefix + step);

    private static byte[] AdapterBytes(string dir, int step) => File.ReadAllBytes(Path.Combine(Checkpoint(dir, step), PeftAdapter.WeightsFile));

    /// <summary>The run in <paramref name="actual"/> has bitwise the losses and adapter of <paramref name="expected"/>.</summary>
    private static void AssertBitwise(string expected, string actual, int step)
    {
        Assert.Equal(Losses(expected), Losses(actual));
        Assert.Equal(AdapterBytes(expected, step), AdapterBytes(actual, step));
    }

    /// <summary>The same losses and adapter within <paramref name="tolerance"/> relative to each value's magnitude (at least 1); returns the largest difference seen.</summary>
    private static double AssertClose(string expected, string actual, int step, double tolerance)
    {
        var (a, b) = (Losses(expected), Losses(actual));
        Assert.Equal(a.Length, b.Length);
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y) / Math.Max(1, Math.Abs(x))).Max();
        using var scope = NewDisposeScope();
        using var ra = new SafetensorsReader(Path.Combine(Checkpoint(expected, step), PeftAdapter.WeightsFile));
        using var rb = new SafetensorsReader(Path.Combine(Checkpoint(actual, step), PeftAdapter.WeightsFile));
        foreach (var key in ra.Header.Entries.Keys)
        {
            var (x, y) = (ra.Read(key), rb.Read(key));
            worst = Math.Max(worst, (x - y).abs().max().item<float>() / Math.Max(1, x.abs().max().item<float>()));
        }
        Assert.True(worst <= tolerance, $"largest relative difference {worst:G3} > {tolerance}");
        TestContext.Current.TestOutputHelper?.WriteLine($"2 ranks vs one device: largest relative difference {worst:G3}");
        return worst;
    }

    /// <summary>2 ranks equal the in-process 2-replica run bitwise, and one device within 1e-5 relative (3.5e-6 seen).</summary>
    private static (string Dir, string Stdout, string InProcess) AssertTwoRanksEqual(MpiLauncher launcher, params string[] overrides)
    {
        var mpi = TrainMpi(launcher, [.. Short, .. overrides]);
        var inProcess = TrainInProcess([.. Short, .. TwoReplicas, .. overrides]);
        AssertBitwise(inProcess, mpi.Dir, 3);
        AssertClose(OneDevice.Value, mpi.Dir, 3, 1e-5); // as in-process replicas against one device (DataParallelTests): the batch summed in two halves
        return (mpi.Dir, mpi.Stdout, inProcess);
    }

    [Theory]
    [InlineData(MpiKind.OpenMpi)]
    [InlineData(MpiKind.Mpich)]
    public void Two_ranks_equal_two_replicas_and_one_device(MpiKind kind)
    {
        var launcher = MpiLauncher.Of(kind);
        var (dir, stdout, _) = AssertTwoRanksEqual(launcher);
        Assert.Contains($"distributed: mpi ({launcher.Abi}, {launcher.Library}), world size 2 (ranks 0–1, 2 replicas in all", stdout);
        Assert.Single(stdout.Split('\n'), l => l.StartsWith("done: step 3/3", StringComparison.Ordinal)); // rank 1 writes nothing
        var first = Lines(dir)[0];
        foreach (var key in new[] { "comm_allgather_ms", "comm_allreduce_ms", "comm_share" })
            Assert.InRange(first.GetProperty(key).GetDouble(), 0, key == "comm_share" ? 1 : 60_000);
        var state = TrainingState.Load(Checkpoint(dir, 3));
        Assert.Equal(2, state.WorldSize);
        Assert.Equal(2, state.DropoutRngStates.Count);
    }

    [Theory]
    [InlineData(MpiKind.OpenMpi)]
    [InlineData(MpiKind.Mpich)]
    public void Two_ranks_with_gradcache_equal_two_replicas_and_one_device(MpiKind kind) => AssertTwoRanksEqual(MpiLauncher.Of(kind), "training.micro_batch_size=2");

    [Fact]
    public void Two_ranks_with_gradient_checkpointing_equal_two_replicas_and_one_device() => AssertTwoRanksEqual(MpiLauncher.OpenMpi, "model.gradient_checkpointing=true");

    [Fact]
    public void Two_ranks_with_evaluation_equal_two_replicas_and_one_device()
    {
        string[] eval = [$"eval.data={FixtureBeir.Folder}", "eval.every_steps=2", "eval.max_queries=20"];
        var (dir, _, inProcess) = AssertTwoRanksEqual(MpiLauncher.OpenMpi, eval);
        static List<string> Evals(string d) => Lines(d).Where(l => l.TryGetProperty("eval_ndcg_at_10", out _))
            .Select(l => string.Join(",", l.EnumerateObject().Where(p => p.Name != "eval_runtime_s").Select(p => $"{p.Name}={p.Value}"))).ToList();
        Assert.Equal(3, Evals(dir).Count); // steps 0, 2 and 3, once (rank 0 alone evaluates)
        Assert.Equal(Evals(inProcess), Evals(dir));
    }

    /// <summary>Starts <paramref name="args"/> on 2 ranks, kills rank 1 once checkpoint-3 exists and asserts that the launcher ends the job, non-zero, within seconds.</summary>
    private static void KillRankOne(MpiLauncher launcher, string dir, string[] args, int maxSteps)
    {
        using var job = MpiJob.Start(launcher, (2, args));
        var started = Stopwatch.StartNew();
        int? rank1 = null;
        while ((rank1 ??= job.RankProcess(1)) is null && started.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(20);
        using var victim = Process.GetProcessById(rank1 ?? throw new InvalidOperationException("rank 1's process not found"));
        while (!Directory.Exists(Checkpoint(dir, 3)) && started.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(20);
        Assert.True(Directory.Exists(Checkpoint(dir, 3)), "no checkpoint-3 after a minute");
        victim.Kill();
        var killed = Stopwatch.StartNew();
        var (code, stdout, stderr) = job.Wait(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, code);
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(10), $"the job took {killed.Elapsed.TotalSeconds:F1} s to end");
        Assert.DoesNotContain($"done: step {maxSteps}/{maxSteps}", stdout + stderr);
        TestContext.Current.TestOutputHelper?.WriteLine($"killed rank 1 after {Lines(dir).Count} logged steps; {launcher.Abi}'s launcher ended {killed.Elapsed.TotalSeconds:F1} s later with {code}");
    }

    /// <summary>
    /// Rank 1 is killed once a checkpoint exists: mpirun ends the job, non-zero, within seconds. <c>--resume</c> on 2
    /// ranks then finishes the run, with dropout on, bitwise as a straight in-process 2-replica run (each rank takes its
    /// own dropout generator state from the checkpoint). One process may not resume it.
    /// </summary>
    [Fact]
    public void Killing_a_rank_ends_the_job_and_resume_continues_bitwise()
    {
        string[] run = ["training.max_steps=18", "checkpoint.every_steps=3", "checkpoint.keep_last=10"];
        var dir = TestPaths.TempDir("mpi-kill");
        var args = TrainArgs(dir, run);
        KillRankOne(MpiLauncher.OpenMpi, dir, args, 18);

        var (resumed, stdoutResumed, stderrResumed) = MpiJob.Run(MpiLauncher.OpenMpi, 2, [.. args, "--resume"]);
        Assert.True(resumed == 0, $"resume exited with {resumed}:\n{stdoutResumed}\n{stderrResumed}");
        Assert.Contains("resumed from", stdoutResumed);
        AssertBitwise(TrainInProcess([.. run, .. TwoReplicas]), dir, 18);

        var alone = Assert.Throws<InvalidDataException>(() => new TrainingRun(TrainingFixture.Config(dir, run), new TrainOptions { Resume = true }, TextWriter.Null).Run());
        Assert.Contains("it was trained by 2 process(es), this run has 1; resume with the same number of processes", alone.Message);
        Assert.DoesNotContain('\n', alone.Message);
    }

    /// <summary>MPICH's Hydra, too, ends the job within seconds when a rank dies (resume is the same code as under Open MPI).</summary>
    [Fact]
    public void Killing_a_rank_under_mpich_ends_the_job()
    {
        string[] run = ["training.max_steps=18", "checkpoint.every_steps=3"];
        var dir = TestPaths.TempDir("mpich-kill");
        KillRankOne(MpiLauncher.Mpich, dir, TrainArgs(dir, run), 18);
    }

    /// <summary>Rank 1 reads a bad data file (MPMD: the ranks get different configs): the whole job ends with its message, without hanging.</summary>
    [Theory]
    [InlineData(MpiKind.OpenMpi)]
    [InlineData(MpiKind.Mpich)]
    public void An_error_on_one_rank_ends_the_job(MpiKind kind)
    {
        var dir = TestPaths.TempDir("mpi-error");
        var bad = Path.Combine(TestPaths.TempDir("bad-data"), "bad.jsonl");
        File.WriteAllLines(bad, ["""{"query": "q", "positive": "p"}""", "{not json"]);
        var clock = Stopwatch.StartNew();
        using var job = MpiJob.Start(MpiLauncher.Of(kind), (1, TrainArgs(dir, Short)), (1, TrainArgs(dir, [.. Short, $"data.train=[{bad}]"])));
        var (code, stdout, stderr) = job.Wait(TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, code);
        Assert.Contains($"error (rank 1 of 2, ending the job): {bad}:2", stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:F1} s to end");
        Assert.DoesNotContain("done:", stdout);
    }

    /// <summary>
    /// Rank 1 runs another learning rate (MPMD), so the ranks' adapters drift apart from step 2 although every collective
    /// matches: the checkpoint at step 3 compares their checksums and rank 0 ends the job in one line, without writing it.
    /// The other 2-rank tests pass the same check at each checkpoint.
    /// </summary>
    [Fact]
    public void Ranks_whose_adapters_differ_end_the_job_at_the_checkpoint()
    {
        var dir = TestPaths.TempDir("mpi-diverge");
        using var job = MpiJob.Start(MpiLauncher.OpenMpi, (1, TrainArgs(dir, Short)), (1, TrainArgs(dir, [.. Short, "training.learning_rate=0.03"])));
        var (code, stdout, stderr) = job.Wait(TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, code);
        var errors = stderr.Split('\n').Where(l => l.StartsWith("error", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(errors);
        var match = System.Text.RegularExpressions.Regex.Match(line,
            "^error \\(rank 0 of 2, ending the job\\): the ranks' LoRA adapters differ at step 3: rank 0's checksum ([0-9a-f]{16}), rank 1's ([0-9a-f]{16}); every rank must run the same config, data and trainer build \\(checkpoint not written\\)\\.$");
        Assert.True(match.Success, line);
        Assert.NotEqual(match.Groups[1].Value, match.Groups[2].Value);
        Assert.Contains("step 3/3", stdout); // the steps ran; only the checkpoint stopped them
        Assert.False(Directory.Exists(Checkpoint(dir, 3)));
    }

    /// <summary>
    /// srun without an MPI plugin starts N copies of "rank 0 of 1": a process told it is one of 2 but alone in MPI refuses
    /// to train, naming the MPI it loaded: MPICH's under PMI's variables, Open MPI's under SLURM's.
    /// </summary>
    [Theory]
    [InlineData(MpiKind.OpenMpi, "SLURM_NTASKS", "SLURM_PROCID", "srun (SLURM)")]
    [InlineData(MpiKind.Mpich, "PMI_SIZE", "PMI_RANK", "PMI (MPICH)")]
    public void A_world_smaller_than_the_launchers_is_refused(MpiKind kind, string sizeVariable, string rankVariable, string name)
    {
        var launcher = MpiLauncher.Of(kind);
        launcher.Require();
        var dir = TestPaths.TempDir("mpi-alone");
        var (code, _, stderr) = MpiJob.RunAlone(launcher, [(sizeVariable, "2"), (rankVariable, "0")], TrainArgs(dir, Short));
        Assert.Equal(1, code);
        Assert.Contains($"error: {name} started 2 processes (this one rank 0), but MPI ({launcher.Abi}, {launcher.Library}) reports rank 0 of 1: each process is alone", stderr);
    }

    /// <summary>Without the launcher's MPI library the run ends with one line naming each file tried and the loader's reason (no MPI needed).</summary>
    [Fact]
    public void A_missing_MPI_library_is_named_with_the_loaders_reason()
    {
        var dir = TestPaths.TempDir("mpi-missing");
        const string missing = "/nonexistent/libmpi-missing.so";
        var (code, _, stderr) = MpiJob.RunAlone(MpiLauncher.Mpich, [("PMI_SIZE", "2"), ("PMI_RANK", "0"), ("TRAINER_MPI_LIBRARY", missing)], TrainArgs(dir, Short));
        Assert.Equal(1, code);
        Assert.Contains($"error: no MPI library could be loaded for PMI (MPICH) (tried {missing}: cannot open shared object file: No such file or directory). Install the MPI of the launcher", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
