using Trainer.Checkpointing;

namespace Trainer.Tests;

/// <summary>Paths of the repository's shipped models and the test fixtures (copied next to the test assembly).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string TinyMistral => Path.Combine(RepoRoot, "models", "tiny-mistral");

    public static string Stories260k => Path.Combine(RepoRoot, "models", "stories260k");

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>
    /// This test run's scratch folder. Folders of earlier runs whose process has ended are removed first (the test
    /// host may be stopped before it can clean up after itself).
    /// </summary>
    private static readonly Lazy<string> RunRoot = new(() =>
    {
        var parent = Path.Combine(Path.GetTempPath(), "trainer-tests");
        Directory.CreateDirectory(parent);
        foreach (var old in Directory.GetDirectories(parent, "run-*"))
        {
            var parts = Path.GetFileName(old).Split('-');
            if (parts.Length < 2 || !int.TryParse(parts[1], out int pid) || !OutputFolder.ProcessHasEnded(pid)) continue;
            try
            {
                Directory.Delete(old, recursive: true);
            }
            catch (IOException)
            {
                // in use or vanished: leave it
            }
        }
        var root = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        return root;
    });

    public static string TempDir(string name)
    {
        var dir = Path.Combine(RunRoot.Value, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// The repository holding the shipped models and data: above the test assembly (a build in the repository), else at
    /// or above TRAINER_REPO_ROOT, or the folder the tests were started from (a packed build run from the repository
    /// root on a GPU machine, docs/cuda.md). xunit's runner makes the assembly's folder current before any test runs,
    /// so the starting folder comes from the shell's PWD.
    /// </summary>
    private static string FindRepoRoot()
    {
        string?[] starts = [AppContext.BaseDirectory, Environment.GetEnvironmentVariable("TRAINER_REPO_ROOT"), Environment.GetEnvironmentVariable("PWD"), Environment.CurrentDirectory];
        foreach (var start in starts.Where(s => !string.IsNullOrEmpty(s) && Directory.Exists(s)))
            for (var dir = new DirectoryInfo(start!); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Trainer.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Trainer.sln above {AppContext.BaseDirectory} or the folder the tests started in; run them from the repository root or set TRAINER_REPO_ROOT.");
    }
}
