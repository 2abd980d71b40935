using System.Diagnostics;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Parallel;

/// <summary>
/// <c>mpirun -np N trainer ...</c> (or MPICH's <c>mpiexec -n N</c>, <see cref="MpiLauncher"/>) from a test: MPI never
/// enters the test process. Without the launcher the calling test is skipped with what to install.
/// </summary>
public sealed class MpiJob : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;
    private readonly MpiLauncher _launcher;

    private MpiJob(Process process, MpiLauncher launcher) =>
        (_process, _stdout, _stderr, _launcher) = (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync(), launcher);

    /// <summary>Starts the trainer CLI under <paramref name="launcher"/>; <paramref name="ranks"/> holds each app context's rank count and arguments (MPMD: <c>-np 1 A : -np 1 B</c>).</summary>
    public static MpiJob Start(MpiLauncher launcher, params (int Ranks, string[] Args)[] ranks)
    {
        launcher.Require();
        var info = new ProcessStartInfo(launcher.Program!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in launcher.Options) info.ArgumentList.Add(a);
        for (int i = 0; i < ranks.Length; i++)
        {
            if (i > 0) info.ArgumentList.Add(":");
            foreach (var a in new[] { "-np", ranks[i].Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), CliRunner.DotnetHost(), Path.Combine(AppContext.BaseDirectory, "trainer.dll") })
                info.ArgumentList.Add(a);
            foreach (var a in ranks[i].Args) info.ArgumentList.Add(a);
        }
        return new MpiJob(Process.Start(info)!, launcher);
    }

    /// <summary>Runs <paramref name="args"/> on <paramref name="np"/> ranks to the end.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(MpiLauncher launcher, int np, params string[] args)
    {
        using var job = Start(launcher, (np, args));
        return job.Wait(TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs the trainer CLI without a launcher, with <paramref name="environment"/> added (a launcher's variables); <paramref name="launcher"/> only names it in errors.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunAlone(MpiLauncher launcher, (string Name, string Value)[] environment, params string[] args)
    {
        var info = new ProcessStartInfo(CliRunner.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "trainer.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var job = new MpiJob(Process.Start(info)!, launcher);
        return job.Wait(TimeSpan.FromMinutes(1));
    }

    public int Id => _process.Id;

    /// <summary>Waits for the launcher to end (killing it after <paramref name="limit"/>); its exit code and output.</summary>
    public (int ExitCode, string Stdout, string Stderr) Wait(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"{Path.GetFileName(_launcher.Program)} still running after {limit.TotalSeconds} s: {_stdout.Result}\n{_stderr.Result}");
        }
        return (_process.ExitCode, _stdout.Result, _stderr.Result);
    }

    /// <summary>
    /// The process of MPI rank <paramref name="rank"/> among the launcher's descendants (null until it has started):
    /// mpirun starts the ranks itself, Hydra through a <c>hydra_pmi_proxy</c>.
    /// </summary>
    public int? RankProcess(int rank)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // the process ended while it was read
            }
        }
        bool Descends(int pid)
        {
            for (int depth = 0; depth < 8 && parents.TryGetValue(pid, out int parent); depth++, pid = parent)
                if (parent == _process.Id) return true;
            return false;
        }
        foreach (int pid in parents.Keys.Where(Descends))
        {
            try
            {
                var environ = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
                if (environ.Contains($"{_launcher.RankVariable}={rank}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("trainer.dll", StringComparison.Ordinal)) return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
