using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trainer.Checkpointing;

/// <summary>
/// <c>manifest.json</c>: the byte length and sha256 of every other file of a checkpoint, written last (after each
/// file is flushed to disk), so that a truncated or bit-flipped file is found before anything reads it.
/// </summary>
public static class CheckpointManifest
{
    public const string FileName = "manifest.json";

    /// <summary>Flushes every file of <paramref name="dir"/> to disk, then writes (and flushes) the manifest of them.</summary>
    public static void Write(string dir)
    {
        var bytes = new JsonObject();
        var sha256 = new JsonObject();
        foreach (var path in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name == FileName) continue;
            sha256[name] = DurableFiles.SyncAndHash(path);
            bytes[name] = new FileInfo(path).Length;
        }
        var manifest = new JsonObject { ["bytes"] = bytes, ["sha256"] = sha256 };
        DurableFiles.WriteAllBytes(Path.Combine(dir, FileName), JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Null when every file the manifest lists (which must include <paramref name="required"/>) has its recorded length and sha256; otherwise the first file that differs and how.</summary>
    public static string? Verify(string dir, IEnumerable<string> required)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return $"missing {FileName}";
        JsonObject bytes, sha256;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))?.AsObject();
            bytes = json?["bytes"]?.AsObject() ?? throw new InvalidDataException("no \"bytes\"");
            sha256 = json["sha256"]?.AsObject() ?? throw new InvalidDataException("no \"sha256\"");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            return $"{FileName} is unreadable ({e.Message})";
        }
        var unlisted = required.Where(f => f != FileName && !sha256.ContainsKey(f)).ToList();
        if (unlisted.Count > 0) return $"{FileName} does not list {string.Join(", ", unlisted)}";
        foreach (var (name, hash) in sha256)
        {
            var file = Path.Combine(dir, name);
            if (!File.Exists(file)) return $"missing {name} (listed in {FileName})";
            long length = new FileInfo(file).Length, recorded = bytes[name]?.GetValue<long>() ?? -1;
            if (length != recorded) return $"{name} is {length} bytes, {FileName} records {recorded} (truncated or overwritten)";
            if (DurableFiles.Sha256(file) != hash?.GetValue<string>()) return $"{name} does not match its sha256 in {FileName} (corrupt)";
        }
        return null;
    }
}
