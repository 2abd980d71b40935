using System.Runtime.InteropServices;

namespace Trainer.Tests.Cli;

/// <summary>libc's <c>kill(2)</c>: sends a signal at once, where starting a <c>kill</c> process can take seconds on a loaded machine.</summary>
internal static class SignalNative
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
