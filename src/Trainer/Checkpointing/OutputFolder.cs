using System.Text.RegularExpressions;

namespace Trainer.Checkpointing;

/// <summary>
/// The rules for folders the trainer writes into and may later clear: it only ever deletes what it wrote itself.
/// A training output_dir may hold nothing but the run's own entries (<see cref="IsTrainEntry"/>); an export folder
/// must carry the exporter's marker file and hold nothing but export files. Anything else in the folder makes
/// <c>--overwrite</c> refuse, naming what it found, so that <c>output_dir: .</c> can never delete a user's files.
/// </summary>
public static partial class OutputFolder
{
    /// <summary>Marker file that every export folder carries; its presence is what lets <c>--overwrite</c> replace the folder.</summary>
    public const string ExportMarker = ".trainer-export";

    /// <summary>
    /// True when no process <paramref name="pid"/> is running: a scratch folder named with that pid (an export's
    /// staging folder, a test run's) was left by a process that was killed, and may be removed.
    /// </summary>
    public static bool ProcessHasEnded(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Names a training run writes into its output_dir.</summary>
    public static bool IsTrainEntry(string name) => TrainEntry().IsMatch(name);

    /// <summary>Names an export writes into its output folder.</summary>
    public static bool IsExportEntry(string name) => ExportEntry().IsMatch(name);

    /// <summary>The folder's entries (files and folders, by name), or none when it does not exist.</summary>
    public static List<string> Entries(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>Throws when <paramref name="dir"/> exists as a file; creates it otherwise.</summary>
    public static void Create(string dir, string what)
    {
        if (File.Exists(dir)) throw new InvalidOperationException($"{what} {dir} is a file; expected a folder (or a path that does not exist yet).");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{what} {dir} cannot be created ({e.Message}).");
        }
    }

    /// <summary>Fails unless a small file can be created and removed in <paramref name="dir"/>, naming the folder and the reason.</summary>
    public static void CheckWritable(string dir, string what)
    {
        var probe = Path.Combine(dir, $".write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{what} {dir} is not writable ({e.Message}).");
        }
    }

    /// <summary>
    /// Deletes the run's own entries of a training output_dir, for <c>--overwrite</c>, or refuses, naming the entries
    /// that the trainer did not write (nothing is deleted then). The lock files stay: the caller holds the lock.
    /// </summary>
    public static void ClearTrainOutput(string dir)
    {
        var entries = Entries(dir);
        var foreign = entries.Where(e => !IsTrainEntry(e)).ToList();
        if (foreign.Count > 0)
            throw new InvalidOperationException($"--overwrite refused: output_dir {dir} holds {Describe(foreign)}, which a training run does not write. " +
                                                "The trainer only deletes its own files; choose an empty or new output_dir, or move those files away.");
        foreach (var entry in entries.Where(e => e is not OutputLock.LockFile and not OutputLock.HolderFile))
            Delete(Path.Combine(dir, entry));
    }

    /// <summary>
    /// Checks that an existing export folder may be replaced: it carries <see cref="ExportMarker"/> and holds only
    /// export files. Returns the reason it may not, or null.
    /// </summary>
    public static string? WhyNotReplaceableExport(string dir)
    {
        var entries = Entries(dir);
        if (entries.Count == 0) return null;
        if (!entries.Contains(ExportMarker)) return $"it holds {Describe(entries)} and no {ExportMarker} marker, so it is not a folder that trainer export wrote";
        var foreign = entries.Where(e => !IsExportEntry(e)).ToList();
        return foreign.Count > 0 ? $"it holds {Describe(foreign)}, which an export does not write" : null;
    }

    /// <summary>Deletes a file or a folder tree.</summary>
    public static void Delete(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else File.Delete(path);
    }

    private static string Describe(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    [GeneratedRegex(@"^(checkpoint-\d+|\.tmp-checkpoint-\d+|metrics\.jsonl(\.tmp)?|tensorboard|\.trainer\.lock(\.json)?)$")]
    private static partial Regex TrainEntry();

    [GeneratedRegex(@"^(config\.json|model\.safetensors|model-\d+-of-\d+\.safetensors|model\.safetensors\.index\.json|tokenizer\.model|embedding_config\.json|model\.onnx|model\.onnx_data|\.trainer-export|" +
                    @"onnx|README\.md|modules\.json|sentence_bert_config\.json|config_sentence_transformers\.json|1_Pooling|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$")]
    private static partial Regex ExportEntry();
}
