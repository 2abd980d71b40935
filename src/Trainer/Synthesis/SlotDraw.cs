namespace Trainer.Synthesis;

/// <summary>
/// What one sample of a generation slot asks, drawn from (run seed, slot, sample) alone: the slot's group, the seed
/// sent to the server (which also seeds the draws), the placeholders and the task. <c>trainer synth</c> and its dry run
/// both draw here, so that the dry run prints what a run sends.
/// </summary>
public sealed record SlotDraw(SynthGroup Group, int Seed, SortedDictionary<string, string> Placeholders, string Task)
{
    /// <summary>The group of <paramref name="slot"/>, drawn in proportion to the paper's row counts among <paramref name="groups"/>.</summary>
    public static SynthGroup GroupOf(IReadOnlyList<SynthGroup> groups, int runSeed, int slot) =>
        PlaceholderSampler.PickGroup(groups, new Random(Hashing.Seed($"{runSeed}|group|{slot}")));

    /// <summary>
    /// Draws sample <paramref name="sample"/> of <paramref name="slot"/>: the placeholders, then (for a group that
    /// brainstorms) one of <paramref name="tasks"/>, the group's brainstormed tasks; a symmetric group's task is its
    /// fixed instruction and <paramref name="tasks"/> is not read.
    /// </summary>
    public static SlotDraw Of(SynthGroup group, int runSeed, LanguageTable languages, int slot, int sample, IReadOnlyList<string> tasks)
    {
        if (group.FixedInstruction is null && tasks.Count == 0)
            throw new InvalidOperationException($"group {group.Name} has no brainstormed task to draw slot {slot} from.");
        int seed = RequestId.Seed(runSeed, "generate", group, slot, sample);
        var random = new Random(seed);
        var placeholders = PlaceholderSampler.Sample(group, languages, random);
        string task = group.FixedInstruction ?? tasks[random.Next(tasks.Count)];
        return new SlotDraw(group, seed, placeholders, task);
    }

    /// <summary>The template's values: the placeholders, and the task for a group that brainstorms.</summary>
    public SortedDictionary<string, string> Values()
    {
        var values = new SortedDictionary<string, string>(Placeholders, StringComparer.Ordinal);
        if (Group.Brainstorms) values["task"] = Task;
        return values;
    }
}
