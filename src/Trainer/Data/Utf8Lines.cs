using System.Buffers;
using System.Text;

namespace Trainer.Data;

/// <summary>
/// Reads a file line by line as strict UTF-8. <see cref="File.ReadLines(string)"/> silently turns invalid bytes into
/// U+FFFD; here such a line comes back with no text and the offending byte, so the caller can name file:line (or
/// skip the row). Lines end at '\n' with an optional '\r' before it; a UTF-8 byte-order mark at the start is dropped.
/// Only one line is held in memory at a time, and the input is read once, front to back, so a pipe, a FIFO or
/// <c>-</c> (standard input) reads as a file does.
/// </summary>
public static class Utf8Lines
{
    /// <summary>The path that means standard input.</summary>
    public const string StandardInput = "-";

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Opens <paramref name="path"/> for reading (<c>-</c>: standard input); a missing file throws naming it.</summary>
    public static Stream Open(string path)
    {
        if (path == StandardInput) return Console.OpenStandardInput();
        if (!File.Exists(path)) throw new FileNotFoundException($"File not found: {path}", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
    }

    public static IEnumerable<TextLine> Read(string path)
    {
        using var stream = Open(path);
        foreach (var line in Read(stream)) yield return line;
    }

    /// <summary>The lines of <paramref name="stream"/>, read from where it stands to its end; the caller disposes it.</summary>
    public static IEnumerable<TextLine> Read(Stream stream)
    {
        var chunk = new byte[1 << 16];
        var line = new ArrayBufferWriter<byte>(1 << 12);
        int number = 0;
        bool first = true;
        for (int read; (read = stream.Read(chunk, 0, chunk.Length)) > 0;)
        {
            int start = first && chunk.AsSpan(0, read).StartsWith("\uFEFF"u8) ? 3 : 0;
            first = false;
            for (int newline; (newline = chunk.AsSpan(start, read - start).IndexOf((byte)'\n')) >= 0; start += newline + 1)
            {
                line.Write(chunk.AsSpan(start, newline));
                yield return Decode(++number, line);
                line.ResetWrittenCount();
            }
            line.Write(chunk.AsSpan(start, read - start));
        }
        if (line.WrittenCount > 0) yield return Decode(++number, line);
    }

    private static TextLine Decode(int number, ArrayBufferWriter<byte> line)
    {
        var bytes = line.WrittenSpan;
        if (bytes.EndsWith("\r"u8)) bytes = bytes[..^1];
        try
        {
            return new TextLine(number, Strict.GetString(bytes), 0);
        }
        catch (DecoderFallbackException e)
        {
            return new TextLine(number, null, e.Index + 1);
        }
    }
}
