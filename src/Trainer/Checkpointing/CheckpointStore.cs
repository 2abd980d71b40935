using System.Globalization;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Training;

namespace Trainer.Checkpointing;

/// <summary>
/// The <c>checkpoint-&lt;step&gt;</c> folders of an output_dir. Each holds the PEFT adapter, the optimizer state,
/// <see cref="TrainingState"/> and the resolved config. A checkpoint is written into a temporary folder and renamed
/// into place when complete, so a crash mid-write leaves only a <c>.tmp-</c> folder that resume ignores.
/// </summary>
public sealed class CheckpointStore(string outputDir)
{
    public const string Prefix = "checkpoint-";
    public const string TempPrefix = ".tmp-checkpoint-";
    public const string OptimizerFile = "optimizer.bin";
    public const string ConfigFile = "config.yaml";

    public static readonly string[] RequiredFiles =
        [PeftAdapter.ConfigFile, PeftAdapter.WeightsFile, OptimizerFile, TrainingState.FileName, ConfigFile];

    public string OutputDir { get; } = outputDir;

    /// <summary>Writes a complete checkpoint through <paramref name="write"/> (which fills the folder), then renames it into place.</summary>
    public string Save(int step, Action<string> write)
    {
        var final = Path.Combine(OutputDir, Prefix + step.ToString(CultureInfo.InvariantCulture));
        var temp = Path.Combine(OutputDir, TempPrefix + step.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        write(temp);
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    /// <summary>Deletes all but the newest <paramref name="keepLast"/> checkpoints.</summary>
    public void Prune(int keepLast)
    {
        foreach (var (_, dir) in Checkpoints().Skip(keepLast)) Directory.Delete(dir, recursive: true);
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

    /// <summary>Null when the folder holds a complete, readable checkpoint; otherwise what is wrong with it.</summary>
    public static string? Validate(string dir)
    {
        if (!Directory.Exists(dir)) return "folder does not exist";
        var missing = RequiredFiles.Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count > 0) return $"missing {string.Join(", ", missing)}";
        try
        {
            var state = TrainingState.Load(dir);
            if (state.Step <= 0 || state.DropoutRngStates.Count == 0) return $"{TrainingState.FileName} is incomplete";
            SafetensorsHeader.Read(Path.Combine(dir, PeftAdapter.WeightsFile));
            PeftAdapter.ReadSettings(dir);
            if (new FileInfo(Path.Combine(dir, OptimizerFile)).Length == 0) return $"{OptimizerFile} is empty";
        }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return e.Message;
        }
        return null;
    }
}
