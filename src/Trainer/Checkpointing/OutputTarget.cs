namespace Trainer.Checkpointing;

/// <summary>
/// An output file of a command (<c>embed</c>, <c>tokenize</c>, <c>mine</c>, <c>eval --output/--run</c>), opened by what
/// its path names (<see cref="FileStat"/>), so that a write never replaces something that is not a file:
/// <list type="bullet">
/// <item>a regular file, or a path where nothing is yet: written to <c>.NAME.tmp-PID</c> beside it, flushed to disk
/// and renamed over it by <see cref="Commit"/>: a failed run leaves the earlier file as it was;</item>
/// <item>a symbolic link: followed to its final target, which is written that way; the link stays;</item>
/// <item>a FIFO, a character device (<c>/dev/stdout</c>, <c>/dev/null</c>) or <c>-</c> (standard output): written to
/// directly, as it goes, with no rename (what was written before an error has been read already);</item>
/// <item>anything else (a folder, a socket, a block device): refused in one line, before any work.</item>
/// </list>
/// A temporary file of an earlier run of the same output whose process has ended (a killed run) is deleted when the
/// output is opened. Disposed without a commit, the temporary file is deleted.
/// </summary>
public sealed class OutputTarget : IDisposable
{
    /// <summary>The path that means standard output.</summary>
    public const string StandardOutput = "-";

    private readonly string? _finalPath;
    private bool _committed;

    private OutputTarget(string path, Stream stream, string? tempPath, string? finalPath)
    {
        (Path, Stream, TempPath, _finalPath) = (path, stream, tempPath, finalPath);
    }

    /// <summary>The path as given (for messages).</summary>
    public string Path { get; }

    /// <summary>Where the bytes go: the temporary file, or the stream itself.</summary>
    public Stream Stream { get; }

    /// <summary>The temporary file renamed over the target by <see cref="Commit"/>; null when the target is written to directly.</summary>
    public string? TempPath { get; }

    /// <summary>
    /// Refuses, in one line naming <paramref name="option"/>, a path that cannot be an output, and for a file checks
    /// that its folder can be created and written: what a command checks before it loads a model.
    /// </summary>
    public static void Check(string path, string option)
    {
        if (Resolve(path, option) is not { } file) return;
        var folder = System.IO.Path.GetDirectoryName(file)!;
        OutputFolder.Create(folder, $"{option} {path}: the folder");
        OutputFolder.CheckWritable(folder, $"{option} {path}: the folder");
    }

    /// <summary>Opens the output <paramref name="path"/> given as <paramref name="option"/>; see the class summary for what each kind of path gets.</summary>
    public static OutputTarget Open(string path, string option)
    {
        try
        {
            if (path == StandardOutput) return new OutputTarget(path, Console.OpenStandardOutput(), null, null);
            if (Resolve(path, option) is not { } file)
                return new OutputTarget(path, new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite), null, null);
            var folder = System.IO.Path.GetDirectoryName(file)!;
            var name = System.IO.Path.GetFileName(file);
            Directory.CreateDirectory(folder);
            RemoveStaleTemporaries(folder, name);
            var temp = System.IO.Path.Combine(folder, $".{name}.tmp-{Environment.ProcessId}");
            return new OutputTarget(path, new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.Read), temp, file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{option} {path}: cannot open it for writing ({e.Message})", e);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to the output at <paramref name="path"/> and commits it.</summary>
    public static void Write(string path, string option, byte[] bytes)
    {
        using var output = Open(path, option);
        output.Guard(s => s.Write(bytes));
        output.Commit();
    }

    /// <summary>Pushes what was written so far on (to the temporary file, or to the reader of the stream).</summary>
    public void Flush() => Guard(s => s.Flush());

    /// <summary>A file: flushed to disk and renamed over the target. A stream: flushed and closed.</summary>
    public void Commit()
    {
        if (TempPath is null)
        {
            Guard(s => s.Flush());
        }
        else
        {
            Guard(s => ((FileStream)s).Flush(flushToDisk: true));
            Stream.Dispose();
            Guard(_ => File.Move(TempPath, _finalPath!, overwrite: true));
            DurableFiles.SyncDirectory(System.IO.Path.GetDirectoryName(_finalPath)!);
        }
        _committed = true;
        Stream.Dispose();
    }

    public void Dispose()
    {
        try
        {
            Stream.Dispose();
        }
        catch (IOException)
        {
            // already failing (a full disk, a reader that went away): the error being thrown says why
        }
        if (!_committed && TempPath is not null) File.Delete(TempPath);
    }

    /// <summary>Runs a write, naming the output when it fails.</summary>
    public void Guard(Action<Stream> write)
    {
        try
        {
            write(Stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{Path}: cannot write the output ({e.Message})", e);
        }
    }

    /// <summary>
    /// The regular file an output at <paramref name="path"/> is renamed over (the final target of a link), or null for
    /// standard output, a FIFO or a character device, which are written to directly; anything else throws.
    /// </summary>
    private static string? Resolve(string path, string option)
    {
        if (path == StandardOutput) return null;
        var full = System.IO.Path.GetFullPath(path);
        var type = FileStat.TypeOf(full, followLinks: false);
        if (type == FileType.SymbolicLink)
        {
            try
            {
                full = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)!.FullName;
            }
            catch (IOException e)
            {
                throw new ArgumentException($"{option} {path} is a symbolic link that cannot be followed ({e.Message}).");
            }
            type = FileStat.TypeOf(full, followLinks: false);
        }
        if (!OperatingSystem.IsLinux() && type == FileType.Regular && full.StartsWith("/dev/", StringComparison.Ordinal)) type = FileType.CharacterDevice;
        return type switch
        {
            FileType.None or FileType.Regular => full,
            FileType.Fifo or FileType.CharacterDevice => null,
            FileType.Directory => throw new ArgumentException($"{option} {path} is a folder; give a file path, e.g. {System.IO.Path.Combine(path, "out.jsonl")}."),
            _ => throw new ArgumentException($"{option} {path} is a {Describe(type)}; give a regular file (or a new path), a FIFO, a character device, or - for standard output."),
        };
    }

    private static string Describe(FileType type) => type switch
    {
        FileType.BlockDevice => "block device",
        FileType.Socket => "socket",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>Deletes <c>.NAME.tmp-PID</c> files in <paramref name="folder"/> left by processes that have ended (killed runs).</summary>
    private static void RemoveStaleTemporaries(string folder, string name)
    {
        var prefix = $".{name}.tmp-";
        foreach (var stale in Directory.EnumerateFiles(folder, prefix + "*"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(stale)[prefix.Length..], out int pid) || pid == Environment.ProcessId || !OutputFolder.ProcessHasEnded(pid)) continue;
            try
            {
                File.Delete(stale);
            }
            catch (IOException)
            {
                // vanished or in use: left as it is
            }
        }
    }
}
