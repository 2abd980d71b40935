using System.Text.RegularExpressions;

namespace Trainer.Synthesis;

/// <summary>
/// One prompt template: plain text with <c>{name}</c> placeholders (lower-case letters and underscores; any other
/// brace is literal text). Its version is its name and the hash of its text, recorded with every row made from it.
/// </summary>
public sealed partial class SynthTemplate
{
    public SynthTemplate(string name, string text)
    {
        Name = name;
        Text = text.Replace("\r\n", "\n");
        Version = $"{name}@{Hashing.Short(Text)[..12]}";
        Placeholders = PlaceholderPattern().Matches(Text).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The file name without <c>.txt</c>, e.g. <c>short-long.generate</c>.</summary>
    public string Name { get; }

    public string Text { get; }

    public string Version { get; }

    /// <summary>The placeholder names the text uses.</summary>
    public IReadOnlyList<string> Placeholders { get; }

    /// <summary>The text with every placeholder replaced; a placeholder without a value is an error naming it.</summary>
    public string Render(IReadOnlyDictionary<string, string> values)
    {
        var missing = Placeholders.Where(p => !values.ContainsKey(p)).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"template {Name} uses {{{string.Join("}, {", missing)}}}, which this group does not sample (it has: {string.Join(", ", values.Keys)}).");
        return PlaceholderPattern().Replace(Text, m => values[m.Groups[1].Value]);
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex PlaceholderPattern();
}
