using System.Diagnostics;
using System.Net.Sockets;

namespace Trainer.Tests.Checkpointing;

/// <summary>FIFOs, sockets and readers made by the tests themselves (never the machine's own <c>/dev</c> entries).</summary>
public static class SpecialFiles
{
    public static string Fifo(string path)
    {
        Run("mkfifo", path);
        return path;
    }

    /// <summary>A bound Unix domain socket at <paramref name="path"/>; disposing it closes the socket (the file stays).</summary>
    public static Socket UnixSocket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>Starts <c>cat FIFO</c> into a file: the reader of a FIFO output. <see cref="Finish"/> waits for it.</summary>
    public static Process CatInto(string fifo, string file) => Start("sh", "-c", "cat \"$0\" > \"$1\"", fifo, file);

    /// <summary>Starts <c>cat FILE &gt; FIFO</c>: the writer of a FIFO input.</summary>
    public static Process CatFrom(string file, string fifo) => Start("sh", "-c", "cat \"$0\" > \"$1\"", file, fifo);

    /// <summary>Waits for the process; false (and it is killed) when it is still running after <paramref name="seconds"/>.</summary>
    public static bool Finish(Process process, int seconds = 60)
    {
        bool exited = process.WaitForExit(TimeSpan.FromSeconds(seconds));
        if (!exited) process.Kill(entireProcessTree: true);
        process.Dispose();
        return exited;
    }

    /// <summary>The pid of a process that has ended (a killed run's, for stale temporary files).</summary>
    public static int EndedPid()
    {
        using var process = Start("true");
        process.WaitForExit();
        return process.Id;
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Start(file, args);
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}");
    }

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }
}
