using System.Text.Json;

namespace Trainer.Inference;

/// <summary>
/// A JSONL output written as it goes into a temporary file beside the target (<c>.NAME.tmp-PID</c>), renamed over
/// the target by <see cref="Commit"/>. Disposed without a commit (an error part-way), it deletes the temporary file:
/// a failed run leaves any earlier output as it was and no partial file behind.
/// </summary>
public sealed class JsonlOutput : IDisposable
{
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _writer;
    private bool _committed;

    private JsonlOutput(string path, string tempPath, FileStream stream)
    {
        (Path, TempPath, _stream) = (path, tempPath, stream);
        _writer = new Utf8JsonWriter(stream);
    }

    public string Path { get; }

    public string TempPath { get; }

    /// <summary>
    /// Refuses an output that is an existing folder or the input itself (compared after resolving relative paths,
    /// "..", and symbolic links of the file and of the folders above it).
    /// </summary>
    public static void CheckTarget(string output, string input)
    {
        if (Directory.Exists(output))
            throw new ArgumentException($"--output {output} is a folder; give a file path, e.g. {System.IO.Path.Combine(output, "out.jsonl")}.");
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        if (string.Equals(RealPath(output), RealPath(input), comparison))
            throw new ArgumentException($"--output {output} is the input file {input}; write to another file.");
    }

    public static JsonlOutput Create(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        var tempPath = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.tmp-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(folder);
            return new JsonlOutput(path, tempPath, new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{path}: cannot create the output ({e.Message})", e);
        }
    }

    /// <summary>Writes one line: <c>{"id": ..., PROPERTY: VALUE}</c>, the id only when the input had one.</summary>
    public void WriteLine(JsonElement? id, string property, Action<Utf8JsonWriter> writeValue) => Guard(() =>
    {
        _writer.WriteStartObject();
        if (id is { } value)
        {
            _writer.WritePropertyName("id");
            value.WriteTo(_writer);
        }
        _writer.WritePropertyName(property);
        writeValue(_writer);
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset();
        _stream.WriteByte((byte)'\n');
    });

    /// <summary>Pushes what was written so far to the temporary file.</summary>
    public void Flush() => Guard(() => _stream.Flush());

    /// <summary>Closes the temporary file and renames it over the target.</summary>
    public void Commit() => Guard(() =>
    {
        _writer.Dispose();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(TempPath, Path, overwrite: true);
        _committed = true;
    });

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
            _stream.Dispose();
        }
        catch (IOException)
        {
            // already failing (e.g. a full disk): the error being thrown says why
        }
        if (!_committed) File.Delete(TempPath);
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{Path}: cannot write the output ({e.Message})", e);
        }
    }

    /// <summary>The absolute path with every symbolic link on the way resolved (the part that does not exist yet kept as is).</summary>
    private static string RealPath(string path, int depth = 0)
    {
        if (depth > 40) throw new ArgumentException($"{path}: too many levels of symbolic links.");
        var full = System.IO.Path.GetFullPath(path);
        var root = System.IO.Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = System.IO.Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            current = info.LinkTarget is not null && LinkTarget(info) is { } target ? RealPath(target, depth + 1) : next;
        }
        return current;
    }

    private static string? LinkTarget(FileSystemInfo link)
    {
        try
        {
            return link.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        }
        catch (IOException)
        {
            return null; // a loop of links: compared as written
        }
    }
}
