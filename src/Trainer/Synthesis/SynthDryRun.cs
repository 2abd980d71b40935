namespace Trainer.Synthesis;

/// <summary>
/// <c>trainer synth --dry-run</c>: prints the brainstorm prompts and the first sample's prompt of each of the
/// <see cref="SynthOptions.Examples"/> first slots, as a run would send them (both draw with <see cref="SlotDraw"/>),
/// and sends nothing. A slot of an asymmetric group shows a task already brainstormed into DIR/tasks.jsonl, or a
/// marker where there is none yet.
/// </summary>
public static class SynthDryRun
{
    public static void Print(SynthOptions options, TextWriter output)
    {
        options.Validate();
        var templates = TemplateSet.Load(options.TemplatesDir, options.Groups);
        var tasks = SynthStore.ReadTasks(options.OutputDir);
        foreach (var group in options.Groups.Where(g => g.Brainstorms))
        {
            output.WriteLine($"=== brainstorm {group.Name} ({templates.Brainstorm(group).Version})");
            output.WriteLine(templates.Brainstorm(group).Render(new Dictionary<string, string>()));
        }
        for (int slot = 0; slot < options.Examples; slot++)
        {
            var group = SlotDraw.GroupOf(options.Groups, options.Seed, slot);
            var saved = tasks.Of(group.Name);
            var draw = SlotDraw.Of(group, options.Seed, options.Languages, slot, 0, saved.Count > 0 ? saved : [$"<a task brainstormed for {group.Name}>"]);
            var template = templates.Generate(group);
            output.WriteLine($"=== slot {slot}: {group.Name} ({template.Version}), seed {draw.Seed}, max_tokens {group.MaxTokens}; "
                             + string.Join(", ", draw.Placeholders.Select(v => $"{v.Key}={v.Value}")));
            output.WriteLine(template.Render(draw.Values()));
        }
    }
}
