using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// <c>trainer synth --dry-run</c>: prints the brainstorm prompts and the first sample's prompt of each of the
/// <see cref="SynthOptions.Examples"/> first slots, as a run would send them, and sends nothing. A slot of an
/// asymmetric group shows a task already brainstormed into DIR/tasks.jsonl, or a marker where there is none yet.
/// </summary>
public static class SynthDryRun
{
    public static void Print(SynthOptions options, TextWriter output)
    {
        options.Validate();
        var templates = TemplateSet.Load(options.TemplatesDir, options.Groups);
        var tasks = SavedTasks(Path.Combine(options.OutputDir, "tasks.jsonl"));
        foreach (var group in options.Groups.Where(g => g.Brainstorms))
        {
            output.WriteLine($"=== brainstorm {group.Name} ({templates.Brainstorm(group).Version})");
            output.WriteLine(templates.Brainstorm(group).Render(new Dictionary<string, string>()));
        }
        for (int slot = 0; slot < options.Examples; slot++)
        {
            var group = PlaceholderSampler.PickGroup(options.Groups, new Random(Hashing.Seed($"{options.Seed}|group|{slot}")));
            int seed = RequestId.Seed(options.Seed, "generate", group, slot, 0);
            var random = new Random(seed);
            var values = new SortedDictionary<string, string>(PlaceholderSampler.Sample(group, options.Languages, random), StringComparer.Ordinal);
            if (group.Brainstorms)
                values["task"] = tasks.TryGetValue(group.Name, out var list) ? list[random.Next(list.Count)] : $"<a task brainstormed for {group.Name}>";
            var template = templates.Generate(group);
            output.WriteLine($"=== slot {slot}: {group.Name} ({template.Version}), seed {seed}, max_tokens {group.MaxTokens}; "
                             + string.Join(", ", values.Where(v => v.Key != "task").Select(v => $"{v.Key}={v.Value}")));
            output.WriteLine(template.Render(values));
        }
    }

    private static Dictionary<string, List<string>> SavedTasks(string path)
    {
        var tasks = new Dictionary<string, List<string>>();
        if (!File.Exists(path)) return tasks;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            TaskRecord? task;
            try
            {
                task = JsonSerializer.Deserialize<TaskRecord>(line, SynthJson.Options);
            }
            catch (JsonException)
            {
                continue; // a torn last line: a run will cut it
            }
            if (task is null) continue;
            if (!tasks.TryGetValue(task.Group, out var list)) tasks[task.Group] = list = [];
            if (!list.Contains(task.Task)) list.Add(task.Task);
        }
        return tasks;
    }
}
