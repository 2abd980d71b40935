using System.Globalization;
using Trainer.Checkpointing;
using Trainer.Config;

namespace Trainer.Training;

/// <summary>
/// What may differ between a checkpoint's run and the run that resumes it. The checkpoint's resolved
/// <c>config.yaml</c> is compared key by key with the new resolved config, and the sha256 of each training file with
/// those the checkpoint recorded. Any other change would silently make a different run (rows skipped or repeated,
/// another file, another schedule), so it is refused with every changed key, its old value and its new value.
/// </summary>
public static class ResumeCheck
{
    /// <summary>
    /// Keys that may change on resume: where the run lives, how often it logs and checkpoints, what to do on NaN, and the
    /// engine and thread count (a different world size is refused on its own, <see cref="TrainingState.WorldSize"/>).
    /// </summary>
    public static readonly string[] Changeable =
        ["output_dir", "training.log_every_steps", "training.on_nonfinite", "training.distributed", "training.threads", "checkpoint.every_steps", "checkpoint.keep_last"];

    /// <summary>
    /// Evaluation never touches training (no RNG, no weights), so every eval.* key may change, except while
    /// checkpoint.keep_best is on: then the keys that define the measured values (which data, which queries, how they
    /// are formatted, how deep the ranking goes) stay, so that the best checkpoint so far and a new one are compared on
    /// the same measure; only these may change then. checkpoint.keep_best itself never changes on resume.
    /// </summary>
    public static readonly string[] EvalCadence = ["eval.every_steps", "eval.batch_size"];

    /// <summary>The run length may change too, but not below the checkpoint's step.</summary>
    public static readonly string[] Length = ["training.max_steps", "training.epochs"];

    /// <summary>sha256 of each training file, by path (as <see cref="TrainingState.DataSha256"/> records them).</summary>
    public static IReadOnlyDictionary<string, string> HashData(IEnumerable<string> files) =>
        files.Distinct().ToDictionary(f => f, DurableFiles.Sha256);

    /// <summary>Throws a <see cref="ConfigException"/> listing each change (<c>key: old → new</c>) that resuming <paramref name="checkpoint"/> cannot honour.</summary>
    public static void Verify(string checkpoint, TrainConfig config, int totalSteps, IReadOnlyDictionary<string, string> dataSha256)
    {
        var state = TrainingState.Load(checkpoint);
        var saved = ConfigLoader.Load(Path.Combine(checkpoint, CheckpointStore.ConfigFile));
        var changes = new List<string>();
        var lengthChanges = new List<string>();
        bool evalChangeable = saved.Checkpoint.KeepBest is null;
        foreach (var key in ConfigSchema.Keys.Where(k => !Changeable.Contains(k.Path) && !EvalCadence.Contains(k.Path) && !(evalChangeable && IsEvalKey(k.Path))))
        {
            string before = Format(key.Get(saved)), after = Format(key.Get(config));
            if (before != after) (Length.Contains(key.Path) ? lengthChanges : changes).Add($"{key.Path}: {before} → {after}");
        }
        if (totalSteps < state.Step)
            changes.Add($"{(lengthChanges.Count > 0 ? string.Join(", ", lengthChanges) : "the run length")} ({totalSteps} steps in all, fewer than the checkpoint's {state.Step})");
        foreach (var (file, before) in state.DataSha256)
            if (dataSha256.TryGetValue(file, out var after) && after != before)
                changes.Add($"data.train file {file}: sha256 {before[..Math.Min(12, before.Length)]}… → {after[..12]}… (content changed)");
        if (changes.Count == 0) return;
        throw new ConfigException($"Cannot resume from {checkpoint}: {string.Join("; ", changes)}. On resume only {string.Join(", ", Length)} " +
                                  $"(not below step {state.Step}), {string.Join(", ", Changeable)} and {(evalChangeable ? "eval.*" : string.Join(", ", EvalCadence) + " (checkpoint.keep_best is on)")} may change; " +
                                  $"to start a new run from these weights, set lora.init_adapter: {checkpoint} in a fresh output_dir.");
    }

    private static bool IsEvalKey(string path) => path.StartsWith("eval.", StringComparison.Ordinal);

    private static string Format(object? value) => value switch
    {
        null => "null",
        string text => text,
        IReadOnlyDictionary<string, object?> mapping => $"{{{string.Join(", ", mapping.Select(kv => $"{kv.Key}: {Format(kv.Value)}"))}}}", // a data.train source
        System.Collections.IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Select(Format))}]", // any list, each item formatted alike
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
