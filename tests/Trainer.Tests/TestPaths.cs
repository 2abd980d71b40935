namespace Trainer.Tests;

/// <summary>Paths of the repository's shipped models and the test fixtures (copied next to the test assembly).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string TinyMistral => Path.Combine(RepoRoot, "models", "tiny-mistral");

    public static string Stories260k => Path.Combine(RepoRoot, "models", "stories260k");

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "trainer-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Trainer.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Trainer.sln above {AppContext.BaseDirectory}");
    }
}
