using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// What makes two runs' rows one data set: written to DIR/settings.json by the first run; a later run into the same
/// folder must match it, or it stops naming the first setting that differs. Row count, concurrency, rate limits,
/// retries and the server's URL may change between runs.
/// </summary>
public sealed record SynthSettings(
    string Model,
    int Seed,
    IReadOnlyList<string> Groups,
    string Languages,
    IReadOnlyDictionary<string, string> Templates,
    double Temperature,
    double TopP,
    string JsonMode)
{
    public const string FileName = "settings.json";

    /// <summary>Writes these settings to a new folder, or checks them against the folder's.</summary>
    public void WriteOrCheck(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            Checkpointing.OutputTarget.Write(path, "--output", JsonSerializer.SerializeToUtf8Bytes(this, SynthJson.Indented));
            return;
        }
        SynthSettings? saved;
        try
        {
            saved = JsonSerializer.Deserialize<SynthSettings>(File.ReadAllText(path), SynthJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a synth settings file ({e.Message}); use another --output.");
        }
        if (saved is null) throw new InvalidDataException($"{path} is empty; use another --output.");
        var difference = Difference(saved);
        if (difference is not null)
            throw new InvalidOperationException($"{folder} holds another run, made with {difference}; use the same setting to extend it, or another --output.");
    }

    private string? Difference(SynthSettings saved)
    {
        if (saved.Model != Model) return $"--model {saved.Model} (this run: {Model})";
        if (saved.Seed != Seed) return $"--seed {saved.Seed} (this run: {Seed})";
        if (!saved.Groups.SequenceEqual(Groups)) return $"--groups {string.Join(",", saved.Groups)} (this run: {string.Join(",", Groups)})";
        if (saved.Languages != Languages) return $"another language list (fingerprint {saved.Languages}; this run: {Languages})";
        if (saved.Temperature != Temperature) return $"--temperature {saved.Temperature} (this run: {Temperature})";
        if (saved.TopP != TopP) return $"--top-p {saved.TopP} (this run: {TopP})";
        if (saved.JsonMode != JsonMode) return $"--json-mode {saved.JsonMode} (this run: {JsonMode})";
        foreach (var (name, version) in Templates)
            if (!saved.Templates.TryGetValue(name, out var old) || old != version)
                return $"template {old ?? name + " (none)"} (this run: {version}; see --templates)";
        return null;
    }
}
