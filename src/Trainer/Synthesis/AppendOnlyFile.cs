using System.Text;

namespace Trainer.Synthesis;

/// <summary>
/// A JSONL file that only grows: each line is written whole and flushed to the operating system at once, so that a
/// killed process loses at most the line it was writing. Opening it cuts such a torn last line (one without its
/// newline) before reading.
/// </summary>
public sealed class AppendOnlyFile : IDisposable
{
    private readonly StreamWriter _writer;

    private AppendOnlyFile(string path, StreamWriter writer) => (Path, _writer) = (path, writer);

    public string Path { get; }

    /// <summary>Opens (creating) <paramref name="path"/>, cuts a torn last line and returns its complete lines.</summary>
    public static AppendOnlyFile Open(string path, out IReadOnlyList<string> lines)
    {
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            long keep = CompleteLength(stream);
            if (keep < stream.Length) stream.SetLength(keep);
            lines = ReadLines(stream, 0);
            stream.Position = stream.Length;
            return new AppendOnlyFile(path, new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" });
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The complete lines of <paramref name="path"/>, as <see cref="Open"/> returns them (none when it does not exist),
    /// without creating it or cutting its torn last line.
    /// </summary>
    public static IReadOnlyList<string> ReadLines(string path)
    {
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        long keep = CompleteLength(stream);
        var lines = ReadLines(stream, 0);
        if (keep < stream.Length)
        {
            // The complete part ends with a newline, so the torn part reads as lines of its own: leave those out.
            int torn = Math.Min(ReadLines(stream, keep).Count, lines.Count);
            lines.RemoveRange(lines.Count - torn, torn);
        }
        return lines;
    }

    public void Append(string line)
    {
        _writer.Write(line);
        _writer.Write('\n');
        _writer.Flush();
    }

    /// <summary>The non-empty lines from byte <paramref name="start"/> to the end.</summary>
    private static List<string> ReadLines(FileStream stream, long start)
    {
        stream.Position = start;
        var lines = new List<string>();
        using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 1 << 16, leaveOpen: true);
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) lines.Add(line);
        return lines;
    }

    /// <summary>The length up to and including the last newline (0 when there is none).</summary>
    private static long CompleteLength(FileStream stream)
    {
        var buffer = new byte[4096];
        long end = stream.Length;
        while (end > 0)
        {
            int count = (int)Math.Min(buffer.Length, end);
            stream.Position = end - count;
            stream.ReadExactly(buffer, 0, count);
            int newline = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (newline >= 0) return end - count + newline + 1;
            end -= count;
        }
        return 0;
    }

    public void Dispose() => _writer.Dispose();
}
