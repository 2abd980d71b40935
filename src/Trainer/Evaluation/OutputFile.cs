namespace Trainer.Evaluation;

/// <summary>Evaluation outputs are written to a temporary name beside the target, flushed, and renamed over it.</summary>
internal static class OutputFile
{
    public static void WriteAtomically(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(folder);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new InvalidOperationException($"{path}: cannot write ({e.Message})", e);
        }
    }
}
