using System.Reflection;

namespace Trainer.Synthesis;

/// <summary>
/// The prompt templates of a run: <c>GROUP.brainstorm.txt</c> for the four asymmetric groups and
/// <c>GROUP.generate.txt</c> for all six. The shipped ones are embedded in the assembly (their sources are in
/// src/Trainer/Synthesis/Templates); <c>--templates DIR</c> replaces them with that folder's files of the same names.
/// Every template is checked against its group's placeholders when loaded, so that a typo fails before any request.
/// </summary>
public sealed class TemplateSet
{
    private const string ResourcePrefix = "Trainer.Synthesis.Templates.";
    private readonly Dictionary<string, SynthTemplate> _templates;

    private TemplateSet(Dictionary<string, SynthTemplate> templates) => _templates = templates;

    /// <summary>The template file names the groups need, e.g. <c>short-long.brainstorm.txt</c>.</summary>
    public static IEnumerable<string> FileNames(IEnumerable<SynthGroup> groups) =>
        groups.SelectMany(g => g.Brainstorms ? new[] { $"{g.Name}.brainstorm.txt", $"{g.Name}.generate.txt" } : [$"{g.Name}.generate.txt"]);

    /// <summary>The shipped templates, or those of <paramref name="folder"/> when given.</summary>
    public static TemplateSet Load(string? folder, IReadOnlyList<SynthGroup> groups)
    {
        var templates = new Dictionary<string, SynthTemplate>(StringComparer.Ordinal);
        foreach (var file in FileNames(groups))
        {
            string text;
            if (folder is null)
            {
                using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file)
                                   ?? throw new InvalidOperationException($"the shipped template {file} is missing from the build.");
                text = new StreamReader(stream).ReadToEnd();
            }
            else
            {
                var path = Path.Combine(folder, file);
                if (!File.Exists(path)) throw new FileNotFoundException($"--templates: {path} is missing (needed: {string.Join(", ", FileNames(groups))}).");
                text = File.ReadAllText(path);
            }
            var template = new SynthTemplate(Path.GetFileNameWithoutExtension(file), text);
            if (string.IsNullOrWhiteSpace(template.Text)) throw new InvalidDataException($"template {file} is empty.");
            templates[template.Name] = template;
        }
        var set = new TemplateSet(templates);
        set.Check(groups);
        return set;
    }

    public SynthTemplate Brainstorm(SynthGroup group) => _templates[$"{group.Name}.brainstorm"];

    public SynthTemplate Generate(SynthGroup group) => _templates[$"{group.Name}.generate"];

    /// <summary>Name → version of every template (what a run's settings record).</summary>
    public IReadOnlyDictionary<string, string> Versions() => _templates.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToDictionary(t => t.Name, t => t.Version);

    private void Check(IReadOnlyList<SynthGroup> groups)
    {
        var languages = new LanguageTable([("English", 1), ("French", 1)]);
        foreach (var group in groups)
        {
            var values = PlaceholderSampler.Sample(group, languages, new Random(0));
            if (group.Brainstorms)
            {
                values["task"] = "a task";
                if (Brainstorm(group).Placeholders.Count > 0)
                    throw new InvalidDataException($"template {group.Name}.brainstorm uses {{{string.Join("}, {", Brainstorm(group).Placeholders)}}}; brainstorm templates take no placeholders.");
            }
            Generate(group).Render(values);
        }
    }
}
