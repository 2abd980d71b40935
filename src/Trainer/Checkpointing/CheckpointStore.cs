using System.Globalization;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Checkpointing;

/// <summary>
/// The <c>checkpoint-&lt;step&gt;</c> folders of an output_dir. Each holds the PEFT adapter, the optimizer state,
/// <see cref="TrainingState"/>, the resolved config and a <see cref="CheckpointManifest"/> of their checksums. A
/// checkpoint is written into a temporary folder, flushed to disk, validated, and renamed into place, so a crash
/// mid-write leaves only a <c>.tmp-</c> folder that resume ignores.
/// </summary>
public sealed class CheckpointStore(string outputDir)
{
    public const string Prefix = "checkpoint-";
    public const string TempPrefix = ".tmp-checkpoint-";
    public const string OptimizerFile = "optimizer.bin";
    public const string ConfigFile = "config.yaml";

    public static readonly string[] RequiredFiles =
        [PeftAdapter.ConfigFile, PeftAdapter.WeightsFile, OptimizerFile, TrainingState.FileName, ConfigFile, CheckpointManifest.FileName];

    public string OutputDir { get; } = outputDir;

    /// <summary>
    /// Writes a complete checkpoint through <paramref name="write"/> (which fills the folder), adds the manifest,
    /// flushes files and folder to disk, refuses it if it does not pass <see cref="Validate"/>, then renames it into place.
    /// </summary>
    public string Save(int step, Action<string> write)
    {
        var final = Path.Combine(OutputDir, Prefix + step.ToString(CultureInfo.InvariantCulture));
        var temp = Path.Combine(OutputDir, TempPrefix + step.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        write(temp);
        CheckpointManifest.Write(temp);
        DurableFiles.SyncDirectory(temp);
        if (Validate(temp) is { } problem)
        {
            Directory.Delete(temp, recursive: true);
            throw new InvalidOperationException($"{Path.GetFileName(final)} not written: {problem}.");
        }
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        DurableFiles.SyncDirectory(OutputDir);
        return final;
    }

    /// <summary>
    /// Deletes all but the newest <paramref name="keepLast"/> checkpoints and the one named <paramref name="keep"/>
    /// (a folder name in output_dir: checkpoint.keep_best's best checkpoint).
    /// </summary>
    public void Prune(int keepLast, string? keep = null)
    {
        foreach (var (_, dir) in Checkpoints().Skip(keepLast).Where(c => Path.GetFileName(c.Dir) != keep)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Checkpoints by step, newest first (temporary folders excluded).</summary>
    public IEnumerable<(int Step, string Dir)> Checkpoints()
    {
        if (!Directory.Exists(OutputDir)) return [];
        return Directory.GetDirectories(OutputDir, Prefix + "*")
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int s), Step: s, Dir: d))
            .Where(x => x.Ok)
            .OrderByDescending(x => x.Step)
            .Select(x => (x.Step, x.Dir));
    }

    /// <summary>The newest checkpoint that passes <see cref="Validate"/>; each one skipped is reported to <paramref name="log"/>.</summary>
    public string? NewestValid(TextWriter log)
    {
        foreach (var (_, dir) in Checkpoints())
        {
            var problem = Validate(dir);
            if (problem is null) return dir;
            log.WriteLine($"warning: skipping checkpoint {dir}: {problem}");
        }
        return null;
    }

    /// <summary>
    /// What a user names as a checkpoint (<c>export --checkpoint</c>, <c>embed --adapter</c>): a checkpoint-&lt;step&gt;
    /// folder, which must pass <see cref="Validate"/>, or an output_dir, which stands for its newest valid checkpoint
    /// (reported to <paramref name="log"/>, as is each invalid one skipped). With <paramref name="allowPlainAdapter"/>
    /// a PEFT adapter folder that is no checkpoint (adapter_config.json without trainer_state.json) is taken as it is.
    /// </summary>
    public static string Resolve(string path, TextWriter log, bool allowPlainAdapter = false)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Checkpoint folder not found: {path}");
        if (File.Exists(Path.Combine(path, TrainingState.FileName)))
        {
            var problem = Validate(path);
            return problem is null ? path : throw new InvalidDataException($"Checkpoint {path} is not usable: {problem}.");
        }
        if (allowPlainAdapter && File.Exists(Path.Combine(path, PeftAdapter.ConfigFile))) return path;
        var newest = new CheckpointStore(path).NewestValid(log) ??
                     throw new InvalidDataException($"No valid checkpoint-<step> folder in {path}{(allowPlainAdapter ? $", and no {PeftAdapter.ConfigFile}" : "")}.");
        log.WriteLine($"{path}: using its newest valid checkpoint, {newest}");
        return newest;
    }

    /// <summary>
    /// Null when the folder holds a complete checkpoint: every file present with the length and sha256 its manifest
    /// records, readable, and an adapter of finite values. Otherwise what is wrong with it (naming the file).
    /// </summary>
    public static string? Validate(string dir)
    {
        if (!Directory.Exists(dir)) return "folder does not exist";
        var missing = RequiredFiles.Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count > 0) return $"missing {string.Join(", ", missing)}";
        try
        {
            if (CheckpointManifest.Verify(dir, RequiredFiles) is { } corrupt) return corrupt;
            var state = TrainingState.Load(dir);
            if (state.Step <= 0 || state.DropoutRngStates.Count == 0) return $"{TrainingState.FileName} is incomplete";
            PeftAdapter.ReadSettings(dir);
            if (new FileInfo(Path.Combine(dir, OptimizerFile)).Length == 0) return $"{OptimizerFile} is empty";
            return NonFinite(Path.Combine(dir, PeftAdapter.WeightsFile));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException or InvalidOperationException
                                      or NotSupportedException or KeyNotFoundException)
        {
            return e.Message;
        }
    }

    /// <summary>Null when every tensor of the safetensors file is finite; otherwise the first tensor holding NaN or Inf.</summary>
    private static string? NonFinite(string path)
    {
        using var reader = new SafetensorsReader(path);
        foreach (var name in reader.Header.Entries.Keys.Order(StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            var tensor = reader.Read(name);
            long bad = tensor.isfinite().logical_not().sum().item<long>();
            if (bad > 0) return $"{PeftAdapter.WeightsFile}: tensor '{name}' has {bad} non-finite value(s) (NaN or Inf) of {tensor.numel()}";
        }
        return null;
    }
}
