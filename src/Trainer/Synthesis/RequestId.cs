using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// A request's deterministic id: the hash of what it asks (group, template version, task, placeholders), its
/// server seed, its slot and its sample (the resample count). The same run asks the same ids in every process.
/// </summary>
public static class RequestId
{
    public static string Of(string kind, SynthGroup group, SynthTemplate template, string? task, IReadOnlyDictionary<string, string> placeholders, int seed, int slot, int sample) =>
        Hashing.Short(JsonSerializer.Serialize(new { kind, group = group.Name, template = template.Version, task, placeholders, seed, slot, sample }));

    /// <summary>The seed sent to the server for a slot's sample; also the seed of its placeholder draws.</summary>
    public static int Seed(int runSeed, string kind, SynthGroup group, int slot, int sample) => Hashing.Seed($"{runSeed}|{kind}|{group.Name}|{slot}|{sample}");
}
