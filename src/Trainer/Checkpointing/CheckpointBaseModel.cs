using Trainer.Config;
using Trainer.Models;

namespace Trainer.Checkpointing;

/// <summary>
/// Finds the base model of a checkpoint that may have been moved or copied. A checkpoint's <c>config.yaml</c> holds
/// <c>model.path</c> and <c>output_dir</c> as absolute paths of the machine that trained it, and the checkpoint sat
/// directly in output_dir, so the base model's place relative to the checkpoint is known too. The base model is, in
/// this order:
/// <list type="number">
/// <item>the folder given explicitly (<c>--base-model</c>);</item>
/// <item><c>model.path</c> as written, when it is a model folder (holds <c>config.json</c>);</item>
/// <item>the same place relative to the checkpoint: <c>model.path</c> taken relative to <c>output_dir</c> and applied
/// to the folder that holds the checkpoint now, when <c>output_dir</c> and <c>model.path</c> share a folder below the
/// file-system root (a project tree that was copied or moved whole).</item>
/// </list>
/// Nothing is rewritten: the checkpoint's files (and their manifest) stay as they were.
/// </summary>
public static class CheckpointBaseModel
{
    /// <summary>The checkpoint's <c>config.yaml</c>, with <c>model.path</c> replaced by the base model found (<see cref="Resolve"/>).</summary>
    public static TrainConfig Load(string checkpoint, string? baseModel, TextWriter log)
    {
        var config = ConfigLoader.Load(Path.Combine(checkpoint, CheckpointStore.ConfigFile));
        return config with { Model = config.Model with { Path = Resolve(checkpoint, config, baseModel, log) } };
    }

    /// <summary>
    /// The base model folder of <paramref name="checkpoint"/> (whose loaded <c>config.yaml</c> is <paramref name="config"/>).
    /// A fallback used is reported to <paramref name="log"/>; when nothing resolves, the error names the paths tried.
    /// </summary>
    public static string Resolve(string checkpoint, TrainConfig config, string? baseModel, TextWriter log)
    {
        if (baseModel is not null)
        {
            return IsModelFolder(baseModel)
                ? Path.GetFullPath(baseModel)
                : throw new DirectoryNotFoundException($"--base-model {baseModel} is not a model folder (no {PretrainedLoader.ConfigFile} in it).");
        }
        var written = config.Model.Path;
        if (IsModelFolder(written)) return written;
        var relative = Relative(checkpoint, config) is { } r && r != written ? r : null;
        if (relative is not null && IsModelFolder(relative))
        {
            log.WriteLine($"{checkpoint}: base model {written} not found; using {relative}, at the same place relative to the checkpoint");
            return relative;
        }
        var tried = relative is null ? written : $"{written} and {relative}";
        throw new DirectoryNotFoundException($"Base model of checkpoint {checkpoint} not found (model.path in its {CheckpointStore.ConfigFile}; tried {tried}); " +
                                             "give the base model folder with --base-model DIR.");
    }

    /// <summary>
    /// Where <c>model.path</c> lies relative to the checkpoint's current folder, or null when <c>output_dir</c> and
    /// <c>model.path</c> shared no folder below the file-system root (then the relation says nothing about a copy).
    /// </summary>
    public static string? Relative(string checkpoint, TrainConfig config)
    {
        string outputDir = Path.GetFullPath(config.OutputDir), model = Path.GetFullPath(config.Model.Path);
        if (TopFolder(outputDir) is not { } top || top != TopFolder(model)) return null;
        var holder = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpoint)))!;
        return Path.GetFullPath(Path.Combine(holder, Path.GetRelativePath(outputDir, model)));
    }

    public static bool IsModelFolder(string dir) => File.Exists(Path.Combine(dir, PretrainedLoader.ConfigFile));

    /// <summary>The root and first folder of an absolute path (<c>/home</c> of <c>/home/me/x</c>), or null for the root itself.</summary>
    private static string? TopFolder(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath)!;
        var first = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).FirstOrDefault(p => p.Length > 0);
        return first is null ? null : root + first;
    }
}
