using System.Text.Json;
using Trainer.Checkpointing;

namespace Trainer.Inference;

/// <summary>
/// A JSONL output written as it goes to an <see cref="OutputTarget"/>: a file's lines go to a temporary file beside it
/// (<c>.NAME.tmp-PID</c>) that <see cref="Commit"/> renames over it, so a failed run leaves any earlier output as it
/// was and no partial file behind; a FIFO, a character device or <c>-</c> (standard output) gets each line as it is
/// written.
/// </summary>
public sealed class JsonlOutput : IDisposable
{
    private readonly OutputTarget _target;
    private readonly Utf8JsonWriter _writer;

    private JsonlOutput(OutputTarget target)
    {
        _target = target;
        _writer = new Utf8JsonWriter(target.Stream);
    }

    public string Path => _target.Path;

    /// <summary>The temporary file, or null when the output is written to directly.</summary>
    public string? TempPath => _target.TempPath;

    /// <summary>Lines written so far.</summary>
    public int Lines { get; private set; }

    /// <summary>
    /// Refuses an output that cannot be written (<see cref="OutputTarget.Check"/>: a folder, a socket, ...) or that is one
    /// of the <paramref name="inputs"/>, in any spelling (relative, "..", symbolic or hard links).
    /// </summary>
    public static void CheckTarget(string output, params (string What, string? Path)[] inputs)
    {
        OutputTarget.Check(output, "--output");
        foreach (var (what, input) in inputs)
        {
            if (input is not null && FileStat.SameFile(output, input))
                throw new ArgumentException($"--output {output} is the {what} file {input}; write to another file.");
        }
    }

    public static JsonlOutput Create(string path) => new(OutputTarget.Open(path, "--output"));

    /// <summary>Writes one line: <c>{"id": ..., PROPERTY: VALUE}</c>, the id only when the input had one.</summary>
    public void WriteLine(JsonElement? id, string property, Action<Utf8JsonWriter> writeValue) => _target.Guard(stream =>
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
        stream.WriteByte((byte)'\n');
        Lines++;
    });

    /// <summary>Pushes what was written so far on.</summary>
    public void Flush() => _target.Flush();

    /// <summary>Finishes the output: a file is renamed over the target.</summary>
    public void Commit()
    {
        _writer.Dispose();
        _target.Commit();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _target.Dispose();
    }
}
