namespace Trainer.Synthesis;

/// <summary>Each group's brainstormed tasks, in the order they were first brainstormed, exact duplicates skipped.</summary>
public sealed class TaskLists
{
    private readonly Dictionary<string, List<string>> _lists = new();
    private readonly Dictionary<string, HashSet<string>> _sets = new();

    public bool Contains(string group, string task) => _sets.TryGetValue(group, out var set) && set.Contains(task);

    /// <summary>Adds <paramref name="task"/> to the group's list unless it holds it already; returns whether it was new.</summary>
    public bool Add(string group, string task)
    {
        if (!_sets.TryGetValue(group, out var set)) (_sets[group], _lists[group]) = (set = new(StringComparer.Ordinal), []);
        if (!set.Add(task)) return false;
        _lists[group].Add(task);
        return true;
    }

    /// <summary>A copy of the group's tasks (empty when it has none).</summary>
    public IReadOnlyList<string> Of(string group) => _lists.TryGetValue(group, out var list) ? list.ToArray() : [];
}
