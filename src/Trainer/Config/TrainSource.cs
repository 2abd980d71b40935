using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Trainer.Config;

/// <summary>
/// One entry of <c>data.train</c>: a file and how its rows join the mixture. A plain path is a source with the
/// defaults; an object <c>{path, name, instruction, weight, symmetric}</c> sets them.
/// <list type="bullet">
/// <item><c>instruction</c>: for this source's rows that carry none (before <c>data.default_instruction</c>).</item>
/// <item><c>weight</c>: the fraction of the source's rows used per epoch, drawn by seed, a new draw each epoch; above 1
/// every row is used ⌊weight⌋ times and the fraction is drawn (e5-mistral's sampling ratios).</item>
/// <item><c>symmetric</c>: the instruction goes on the documents (positives and negatives) too, as e5 does for data
/// whose both sides are queries (Quora duplicates, NLI).</item>
/// </list>
/// </summary>
public sealed record TrainSource(string Path)
{
    public static readonly string[] Keys = ["path", "name", "instruction", "weight", "symmetric"];

    public string? Name { get; init; }
    public string? Instruction { get; init; }
    public double Weight { get; init; } = 1.0;
    public bool Symmetric { get; init; }

    /// <summary>Nothing but a path: written back as a plain path.</summary>
    public bool IsPlain => Name is null && Instruction is null && Weight == 1.0 && !Symmetric;

    /// <summary>The name the logs use: <see cref="Name"/>, else the file name.</summary>
    public string Label => Name ?? System.IO.Path.GetFileName(Path);

    /// <summary>The value the resolved config writes: the path, or a mapping of every key.</summary>
    public object ToConfigValue() => IsPlain ? Path : new Dictionary<string, object?>
    {
        ["path"] = Path,
        ["name"] = Name,
        ["instruction"] = Instruction,
        ["weight"] = Weight,
        ["symmetric"] = Symmetric,
    };

    /// <summary>
    /// Sources from what <c>data.train</c>'s setter is handed: parsed sources, plain paths, or the values
    /// <see cref="ToConfigValue"/> writes (a path, or a mapping of every key).
    /// </summary>
    public static IReadOnlyList<TrainSource> FromConfigValue(object? value) => value switch
    {
        IReadOnlyList<TrainSource> sources => sources,
        IEnumerable<string> paths => paths.Select(p => new TrainSource(p)).ToList(),
        IEnumerable<object> entries => entries.Select(e => e switch
        {
            string path => new TrainSource(path),
            IReadOnlyDictionary<string, object?> d => new TrainSource((string)d["path"]!)
            {
                Name = (string?)d["name"],
                Instruction = (string?)d["instruction"],
                Weight = (double)d["weight"]!,
                Symmetric = (bool)d["symmetric"]!,
            },
            _ => throw new ArgumentException($"data.train: unexpected entry {e}"),
        }).ToList(),
        _ => throw new ArgumentException($"data.train: unexpected value {value}"),
    };

    /// <summary><c>data.train</c> from YAML: a path, or a list of paths and <c>{path, ...}</c> mappings.</summary>
    public static IReadOnlyList<TrainSource> ParseList(YamlNode node, ConfigContext context)
    {
        const string key = "data.train";
        const string expected = "a list of paths or {path, name, instruction, weight, symmetric} mappings";
        var entries = node switch
        {
            YamlSequenceNode sequence => sequence.Children.ToList(),
            YamlScalarNode scalar when scalar.Value is { Length: > 0 } && !(scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "Null" or "NULL") => [node],
            YamlMappingNode => [node],
            _ => throw ConfigKey.Invalid(key, node is YamlScalarNode s ? s.Value ?? "null" : "a mapping", expected),
        };
        if (entries.Count == 0) throw ConfigKey.Invalid(key, "[]", "at least one entry");
        var sources = entries.Select((entry, i) => Parse(entry, $"{key}[{i}]", context)).ToList();
        var names = sources.Where(s => s.Name is not null).GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (names is not null) throw ConfigKey.Invalid($"{key} name", names.Key!, "a name used by one source only");
        return sources;
    }

    private static TrainSource Parse(YamlNode node, string where, ConfigContext context)
    {
        if (node is YamlScalarNode scalar)
            return scalar.Value is { Length: > 0 } path ? new TrainSource(context.ResolvePath(path)) : throw ConfigKey.Invalid(where, "null", "a path or a {path, ...} mapping");
        if (node is not YamlMappingNode mapping) throw ConfigKey.Invalid(where, "a list", "a path or a {path, ...} mapping");
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!Keys.Contains(name)) throw ConfigKey.Invalid($"{where}.{name}", "(a key)", $"one of the keys {string.Join(", ", Keys)}");
            if (valueNode is not YamlScalarNode value) throw ConfigKey.Invalid($"{where}.{name}", valueNode is YamlSequenceNode ? "a list" : "a mapping", "a single value");
            values[name] = value.Style == YamlDotNet.Core.ScalarStyle.Plain && value.Value is null or "" or "~" or "null" or "Null" or "NULL" ? null : value.Value;
        }
        if (values.GetValueOrDefault("path") is not { Length: > 0 } file) throw ConfigKey.Invalid($"{where}.path", "(missing)", "the path of a .jsonl or .parquet file");
        var source = new TrainSource(context.ResolvePath(file))
        {
            Name = NonEmpty(values, "name", where),
            Instruction = NonEmpty(values, "instruction", where),
        };
        if (values.GetValueOrDefault("weight") is { } weight)
        {
            if (!double.TryParse(weight, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w > 0) || double.IsInfinity(w))
                throw ConfigKey.Invalid($"{where}.weight", weight, "a finite number > 0 (the fraction of the source's rows used per epoch; above 1 repeats rows)");
            source = source with { Weight = w };
        }
        if (values.GetValueOrDefault("symmetric") is { } symmetric)
            source = source with { Symmetric = symmetric is "true" or "True" ? true : symmetric is "false" or "False" ? false : throw ConfigKey.Invalid($"{where}.symmetric", symmetric, "true or false") };
        return source;
    }

    private static string? NonEmpty(Dictionary<string, string?> values, string name, string where) => values.GetValueOrDefault(name) switch
    {
        null => null,
        { Length: 0 } => throw ConfigKey.Invalid($"{where}.{name}", "''", "a non-empty string or null"),
        var text when string.IsNullOrWhiteSpace(text) => throw ConfigKey.Invalid($"{where}.{name}", $"'{text}'", "a non-empty string or null"),
        var text => text,
    };
}
