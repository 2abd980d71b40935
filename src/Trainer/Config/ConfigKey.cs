using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Trainer.Config;

/// <summary>
/// One dotted config key: how to read it from YAML (with its validation), how to set it on a
/// <see cref="TrainConfig"/>, and how to read it back for the resolved config. Errors name the key, the value and
/// what is allowed.
/// </summary>
public sealed record ConfigKey(string Path, Func<YamlNode, ConfigContext, object?> Parse, Func<TrainConfig, object?> Get, Func<TrainConfig, object?, TrainConfig> Set,
    bool IsPath = false)
{
    public static ConfigKey String(string path, Func<TrainConfig, string?> get, Func<TrainConfig, string?, TrainConfig> set,
        bool nullable = false, bool isPath = false) =>
        new(path, (node, ctx) =>
        {
            var text = Scalar(node, path, "a string");
            if (text is null)
                return nullable ? null : throw Invalid(path, "null", "a value is required");
            if (!nullable && text.Length == 0) throw Invalid(path, "''", "a non-empty string is required");
            return isPath && text.Length > 0 ? ctx.ResolvePath(text) : text;
        }, c => get(c), (c, v) => set(c, (string?)v), isPath);

    public static ConfigKey Choice(string path, string[] allowed, Func<TrainConfig, string> get, Func<TrainConfig, string, TrainConfig> set) =>
        new(path, (node, _) =>
        {
            var text = Scalar(node, path, "one of " + string.Join(", ", allowed));
            return text is not null && allowed.Contains(text) ? text : throw Invalid(path, text ?? "null", "allowed: " + string.Join(", ", allowed));
        }, c => get(c), (c, v) => set(c, (string)v!));

    public static ConfigKey Int(string path, int min, Func<TrainConfig, int?> get, Func<TrainConfig, int?, TrainConfig> set, bool nullable = false) =>
        new(path, (node, _) =>
        {
            var text = Scalar(node, path, $"an integer ≥ {min}");
            if (text is null) return nullable ? null : throw Invalid(path, "null", $"an integer ≥ {min} is required");
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
                throw Invalid(path, text, $"an integer ≥ {min}{(nullable ? " or null" : "")}");
            return value;
        }, c => get(c), (c, v) => set(c, (int?)v));

    public static ConfigKey Number(string path, double min, bool minExclusive, double max, Func<TrainConfig, double?> get,
        Func<TrainConfig, double?, TrainConfig> set, bool nullable = false, bool maxExclusive = false) =>
        new(path, (node, _) =>
        {
            string range = $"a number {(minExclusive ? ">" : "≥")} {min.ToString(CultureInfo.InvariantCulture)}" +
                           (double.IsPositiveInfinity(max) ? "" : $" and {(maxExclusive ? "<" : "≤")} {max.ToString(CultureInfo.InvariantCulture)}");
            var text = Scalar(node, path, range);
            if (text is null) return nullable ? null : throw Invalid(path, "null", range);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ||
                double.IsNaN(value) || (minExclusive ? value <= min : value < min) || (maxExclusive ? value >= max : value > max))
                throw Invalid(path, text, range + (nullable ? " or null" : ""));
            return value;
        }, c => get(c), (c, v) => set(c, (double?)v));

    public static ConfigKey Bool(string path, Func<TrainConfig, bool> get, Func<TrainConfig, bool, TrainConfig> set) =>
        new(path, (node, _) =>
        {
            var text = Scalar(node, path, "true or false");
            return text is "true" or "True" ? true : text is "false" or "False" ? false : throw Invalid(path, text ?? "null", "true or false");
        }, c => get(c), (c, v) => set(c, (bool)v!));

    public static ConfigKey StringList(string path, Func<TrainConfig, IReadOnlyList<string>?> get, Func<TrainConfig, IReadOnlyList<string>?, TrainConfig> set,
        bool isPath = false, bool allowEmpty = false, bool nullable = false) =>
        new(path, (node, ctx) =>
        {
            if (nullable && node is YamlScalarNode s && IsNull(s)) return null;
            var items = node switch
            {
                YamlSequenceNode seq => seq.Children.Select(child => Scalar(child, path, "a list of strings") ?? throw Invalid(path, "null item", "a list of strings")).ToList(),
                YamlScalarNode scalar when scalar.Value is { Length: > 0 } single && !IsNull(scalar) => [single],
                _ => throw Invalid(path, Describe(node), "a list of strings"),
            };
            if (!allowEmpty && items.Count == 0) throw Invalid(path, "[]", "at least one entry");
            return (IReadOnlyList<string>)(isPath ? items.Select(ctx.ResolvePath).ToList() : items);
        }, c => get(c), (c, v) => set(c, (IReadOnlyList<string>?)v), isPath);

    /// <summary>A list of integers ≥ <paramref name="min"/> (a single scalar counts as one entry); null when <paramref name="nullable"/>.</summary>
    public static ConfigKey IntList(string path, int min, Func<TrainConfig, IReadOnlyList<int>?> get, Func<TrainConfig, IReadOnlyList<int>?, TrainConfig> set,
        bool nullable = false) =>
        new(path, (node, _) =>
        {
            string expected = $"a list of integers ≥ {min}{(nullable ? " or null" : "")}";
            if (nullable && node is YamlScalarNode s && IsNull(s)) return null;
            var texts = Items(node, path, expected);
            var values = new List<int>(texts.Count);
            foreach (var text in texts)
                values.Add(int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min ? value : throw Invalid(path, Show(node), expected));
            return values.Count > 0 ? (IReadOnlyList<int>)values : throw Invalid(path, "[]", expected + " with at least one entry");
        }, c => get(c), (c, v) => set(c, (IReadOnlyList<int>?)v));

    /// <summary>A list of finite numbers &gt; <paramref name="minExclusive"/> (a single scalar counts as one entry); null when <paramref name="nullable"/>.</summary>
    public static ConfigKey NumberList(string path, double minExclusive, Func<TrainConfig, IReadOnlyList<double>?> get, Func<TrainConfig, IReadOnlyList<double>?, TrainConfig> set,
        bool nullable = false) =>
        new(path, (node, _) =>
        {
            string expected = $"a list of numbers > {minExclusive.ToString(CultureInfo.InvariantCulture)}{(nullable ? " or null" : "")}";
            if (nullable && node is YamlScalarNode s && IsNull(s)) return null;
            var texts = Items(node, path, expected);
            var values = new List<double>(texts.Count);
            foreach (var text in texts)
                values.Add(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value > minExclusive
                    ? value : throw Invalid(path, Show(node), expected));
            return values.Count > 0 ? (IReadOnlyList<double>)values : throw Invalid(path, "[]", expected + " with at least one entry");
        }, c => get(c), (c, v) => set(c, (IReadOnlyList<double>?)v));

    private static List<string> Items(YamlNode node, string path, string expected) => node switch
    {
        YamlSequenceNode seq => seq.Children.Select(child => Scalar(child, path, expected) ?? throw Invalid(path, Show(node), expected)).ToList(),
        YamlScalarNode scalar when scalar.Value is { Length: > 0 } single && !IsNull(scalar) => [single],
        _ => throw Invalid(path, Describe(node), expected),
    };

    /// <summary>A list as the user wrote it, <c>[a, b]</c>, for error messages.</summary>
    private static string Show(YamlNode node) => node is YamlSequenceNode seq
        ? $"[{string.Join(", ", seq.Children.Select(c => c is YamlScalarNode s ? s.Value ?? "null" : Describe(c)))}]"
        : Describe(node);

    private static string? Scalar(YamlNode node, string path, string expected) => node switch
    {
        YamlScalarNode scalar => IsNull(scalar) ? null : scalar.Value ?? "",
        _ => throw Invalid(path, Describe(node), expected),
    };

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        YamlScalarNode s => s.Value ?? "null",
        _ => node.ToString(),
    };

    public static ConfigException Invalid(string path, string value, string allowed) => new($"{path} = {value} is invalid; expected {allowed}.");
}

/// <summary>What parsing needs besides the value: the folder that relative paths resolve against.</summary>
public sealed record ConfigContext(string BaseDirectory)
{
    public string ResolvePath(string path) =>
        System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.Combine(BaseDirectory, path)));
}

/// <summary>A configuration error a user can act on; the message names the key.</summary>
public sealed class ConfigException(string message) : Exception(message);
