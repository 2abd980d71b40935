using System.Diagnostics;

namespace Trainer.Tests.Interop;

/// <summary>
/// Runs a script of <c>tests/js</c> under node, whose packages the test project's build installs from
/// <c>tests/js/package-lock.json</c>.
/// </summary>
public static class NodeRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static string JsDir => Path.Combine(TestPaths.RepoRoot, "tests", "js");

    public static Result Run(string script, params string[] args) => Run(script, TimeSpan.FromMinutes(3), args);

    public static Result Run(string script, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = JsDir,
        };
        info.ArgumentList.Add(Path.Combine(JsDir, script));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout)) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
