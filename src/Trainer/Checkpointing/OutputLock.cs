using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trainer.Checkpointing;

/// <summary>Who holds an <see cref="OutputLock"/>: written beside the lock so that a refused run can name the holder.</summary>
public sealed record LockHolder
{
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("host")] public string Host { get; init; } = "";
    [JsonPropertyName("started")] public DateTimeOffset Started { get; init; }
    [JsonPropertyName("command")] public string Command { get; init; } = "";

    public override string ToString() =>
        $"pid {Pid} on {Host}, started {Started.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)} ({Command})";
}

/// <summary>
/// An exclusive lock on an output folder for the whole of a run, in the manner of git's <c>index.lock</c> but held by
/// the operating system: <c>.trainer.lock</c> is opened with <see cref="FileShare.None"/>, which .NET turns into
/// <c>flock(LOCK_EX)</c> on Linux and macOS and a share-mode lock on Windows. The kernel drops it when the process
/// ends, however it ends, so a lock left by a killed run is stale by construction: the next run takes it over and
/// says whose it was. The holder (pid, host, start time) is written to <c>.trainer.lock.json</c>, which a refused run
/// reads to name it.
/// </summary>
public sealed class OutputLock : IDisposable
{
    public const string LockFile = ".trainer.lock";
    public const string HolderFile = ".trainer.lock.json";

    private readonly FileStream _stream;
    private readonly string _holderPath;

    private OutputLock(FileStream stream, string holderPath) => (_stream, _holderPath) = (stream, holderPath);

    /// <summary>Takes the lock on <paramref name="dir"/> (which must exist) or throws naming the folder and the holder.</summary>
    public static OutputLock Acquire(string dir, string command, TextWriter log)
    {
        var lockPath = Path.Combine(dir, LockFile);
        var holderPath = Path.Combine(dir, HolderFile);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            var holder = ReadHolder(holderPath);
            throw new InvalidOperationException($"output_dir {dir} is in use by another run ({holder?.ToString() ?? "holder unknown"}). " +
                                                "Wait for it to finish, or choose another output_dir.");
        }
        if (ReadHolder(holderPath) is { } previous && previous.Pid != Environment.ProcessId)
            log.WriteLine($"note: took over the stale lock on {dir} left by {previous}, which no longer holds it.");
        var me = new LockHolder
        {
            Pid = Environment.ProcessId,
            Host = Environment.MachineName,
            Started = Process.GetCurrentProcess().StartTime.ToUniversalTime(),
            Command = command,
        };
        File.WriteAllText(holderPath, JsonSerializer.Serialize(me));
        return new OutputLock(stream, holderPath);
    }

    private static LockHolder? ReadHolder(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<LockHolder>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock; the holder file goes first so that nobody reads a holder that no longer holds.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_holderPath);
        }
        catch (IOException)
        {
            // the folder is gone or read-only: the lock itself is still released below
        }
        _stream.Dispose();
    }
}
