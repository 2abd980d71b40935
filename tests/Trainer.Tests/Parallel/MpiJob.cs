using System.Diagnostics;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Parallel;

/// <summary>
/// <c>mpirun -np N trainer ...</c> from a test: MPI never enters the test process. As root Open MPI needs
/// <c>--allow-run-as-root</c>; <c>--oversubscribe</c> lets two ranks share fewer cores, and <c>--bind-to none</c> keeps
/// Open MPI from pinning each to one core. Without mpirun the calling test is skipped with what to install.
/// </summary>
public sealed class MpiJob : IDisposable
{
    public const string Missing = "skipped: mpirun not found (apt-get install openmpi-bin)";

    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private MpiJob(Process process) => (_process, _stdout, _stderr) = (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());

    /// <summary>mpirun's path, or null when it is not on PATH.</summary>
    public static string? Mpirun { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    /// <summary>Skips the calling test where mpirun is missing.</summary>
    public static void RequireMpirun()
    {
        if (Mpirun is null) Assert.Skip(Missing);
    }

    /// <summary>Starts the trainer CLI under mpirun; <paramref name="ranks"/> holds each app context's rank count and arguments (MPMD: <c>-np 1 A : -np 1 B</c>).</summary>
    public static MpiJob Start(params (int Ranks, string[] Args)[] ranks)
    {
        RequireMpirun();
        var info = new ProcessStartInfo(Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none" }) info.ArgumentList.Add(a);
        for (int i = 0; i < ranks.Length; i++)
        {
            if (i > 0) info.ArgumentList.Add(":");
            foreach (var a in new[] { "-np", ranks[i].Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), CliRunner.DotnetHost(), Path.Combine(AppContext.BaseDirectory, "trainer.dll") })
                info.ArgumentList.Add(a);
            foreach (var a in ranks[i].Args) info.ArgumentList.Add(a);
        }
        return new MpiJob(Process.Start(info)!);
    }

    /// <summary>Runs <paramref name="args"/> on <paramref name="np"/> ranks to the end.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(int np, params string[] args)
    {
        using var job = Start((np, args));
        return job.Wait(TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs the trainer CLI without mpirun, with <paramref name="environment"/> added (a launcher's variables).</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunAlone((string Name, string Value)[] environment, params string[] args)
    {
        var info = new ProcessStartInfo(CliRunner.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "trainer.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var job = new MpiJob(Process.Start(info)!);
        return job.Wait(TimeSpan.FromMinutes(1));
    }

    public int Id => _process.Id;

    /// <summary>Waits for mpirun to end (killing it after <paramref name="limit"/>); its exit code and output.</summary>
    public (int ExitCode, string Stdout, string Stderr) Wait(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"mpirun still running after {limit.TotalSeconds} s: {_stdout.Result}\n{_stderr.Result}");
        }
        return (_process.ExitCode, _stdout.Result, _stderr.Result);
    }

    /// <summary>The process of MPI rank <paramref name="rank"/> among mpirun's children (null until it has started).</summary>
    public int? RankProcess(int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (parent != _process.Id) continue;
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environ.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // the process ended while it was read
            }
        }
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
