using System.Runtime.InteropServices;

namespace Trainer.Checkpointing;

/// <summary>
/// The type and identity of a path. .NET tells a folder from a file and sees symbolic links, but not a FIFO or a device
/// from a regular file, and outputs must tell them apart (<see cref="OutputTarget"/>). On Linux this asks the kernel
/// through <c>statx(2)</c>, whose buffer has the same layout on every architecture (unlike <c>struct stat</c>):
/// <c>stx_mode</c> is the u16 at byte 28, <c>stx_ino</c> the u64 at 32, <c>stx_dev_major</c>/<c>minor</c> the u32s
/// at 136 and 140. Elsewhere only what .NET sees is told: a folder, a link, or else a regular file.
/// </summary>
public static class FileStat
{
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxIno = 0x100;
    private const int ENOENT = 2, ENOTDIR = 20;

    /// <summary>The type of <paramref name="path"/>: of the link itself when <paramref name="followLinks"/> is false.</summary>
    public static FileType TypeOf(string path, bool followLinks)
    {
        if (!OperatingSystem.IsLinux()) return ManagedTypeOf(path, followLinks);
        var buffer = Stat(path, followLinks);
        if (buffer is null) return FileType.None;
        return (BitConverter.ToUInt16(buffer, 28) & 0xF000) switch
        {
            0x1000 => FileType.Fifo,
            0x2000 => FileType.CharacterDevice,
            0x4000 => FileType.Directory,
            0x6000 => FileType.BlockDevice,
            0x8000 => FileType.Regular,
            0xA000 => FileType.SymbolicLink,
            0xC000 => FileType.Socket,
            _ => FileType.None,
        };
    }

    /// <summary>
    /// True when both paths exist and are the same file, whatever their spelling: relative or absolute, through links
    /// of the file or its folders, or hard links (the device and inode are compared on Linux; elsewhere the full paths
    /// with the file's links resolved).
    /// </summary>
    public static bool SameFile(string a, string b)
    {
        if (OperatingSystem.IsLinux())
        {
            var (x, y) = (Stat(a, followLinks: true), Stat(b, followLinks: true));
            return x is not null && y is not null && x.AsSpan(32, 8).SequenceEqual(y.AsSpan(32, 8)) && x.AsSpan(136, 8).SequenceEqual(y.AsSpan(136, 8));
        }
        if (!Path.Exists(a) || !Path.Exists(b)) return false;
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(Resolved(a), Resolved(b), comparison);
    }

    /// <summary>The statx buffer of the path, or null when it does not exist.</summary>
    private static byte[]? Stat(string path, bool followLinks)
    {
        var buffer = new byte[256];
        if (Native.statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxIno, buffer) == 0) return buffer;
        int errno = Marshal.GetLastPInvokeError();
        if (errno is ENOENT or ENOTDIR) return null;
        throw new IOException($"{path}: cannot stat it (errno {errno}).");
    }

    private static FileType ManagedTypeOf(string path, bool followLinks)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            if (!followLinks) return FileType.SymbolicLink;
            path = Resolved(path);
        }
        return Directory.Exists(path) ? FileType.Directory : File.Exists(path) ? FileType.Regular : FileType.None;
    }

    private static string Resolved(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
    }
}
