using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Trainer.Checkpointing;

/// <summary>
/// sha256 of files, and fsync of files and folders, so that a checkpoint renamed into place is on disk and can be
/// verified later. .NET cannot open a folder (<c>File.OpenHandle</c> refuses with UnauthorizedAccessException), so
/// folders are synced through libc's <c>open</c>/<c>fsync</c> on Linux and macOS; Windows has no folder fsync.
/// </summary>
public static class DurableFiles
{
    /// <summary>The file's sha256 as lowercase hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Flushes the file's data to disk (fsync) and returns its sha256 as lowercase hex.</summary>
    public static string SyncAndHash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var hash = SHA256.HashData(stream);
        stream.Flush(flushToDisk: true);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Writes a file and flushes it to disk before returning.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>fsync of a folder, so that the names created or renamed in it are on disk.</summary>
    public static void SyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Native.open(dir, 0); // O_RDONLY
        if (fd < 0) throw new IOException($"Cannot open folder {dir} to flush it to disk (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Native.fsync(fd) != 0) throw new IOException($"fsync of folder {dir} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
