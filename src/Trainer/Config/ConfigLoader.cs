using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Trainer.Config;

/// <summary>
/// YAML file → <c>--set key.path=value</c> overrides → one validation pass → <see cref="TrainConfig"/>. Relative paths
/// resolve against the config file's folder. Unknown keys are errors that suggest the closest valid key.
/// </summary>
public static class ConfigLoader
{
    public static TrainConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file not found: {path}", path);
        var values = Flatten(ParseYaml(File.ReadAllText(path), path), path);
        foreach (var item in overrides ?? [])
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw new ConfigException($"--set {item} is invalid; expected key.path=value, e.g. --set training.max_steps=10.");
            var key = item[..eq].Trim();
            var node = ParseValue(key, item[(eq + 1)..]);
            foreach (var existing in values.Keys.Where(k => k.StartsWith(key + ".", StringComparison.Ordinal)).ToList()) values.Remove(existing);
            if (node is YamlMappingNode mapping) foreach (var (k, v) in Flatten(mapping, "--set")) values[key + "." + k] = v;
            else values[key] = node;
        }
        var context = new ConfigContext(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return Bind(values, context);
    }

    public static TrainConfig Bind(IReadOnlyDictionary<string, YamlNode> values, ConfigContext context)
    {
        var config = new TrainConfig();
        var byPath = ConfigSchema.Keys.ToDictionary(k => k.Path);
        foreach (var (path, node) in values)
        {
            if (!byPath.TryGetValue(path, out var key))
            {
                var section = ConfigSchema.Keys.Where(k => k.Path.StartsWith(path + ".", StringComparison.Ordinal)).Select(k => k.Path).ToList();
                if (section.Count > 0) throw new ConfigException($"{path} must be a mapping with keys {string.Join(", ", section)}.");
                throw new ConfigException($"Unknown config key '{path}'. Did you mean '{Closest(path)}'?");
            }
            config = key.Set(config, key.Parse(node, context));
        }
        if (!values.ContainsKey("output_dir")) config = config with { OutputDir = context.ResolvePath(config.OutputDir) }; // the default is relative too
        if (!values.ContainsKey("data.query_template") && config.Model.Path.Length > 0 && Text.SentenceTransformersPrompt.Read(config.Model.Path) is var (template, instruction))
        {
            // a sentence-transformers base keeps its own query format (and instruction, unless one is given)
            config = config with { Data = config.Data with { QueryTemplate = template.Template } };
            if (!values.ContainsKey("data.default_instruction")) config = config with { Data = config.Data with { DefaultInstruction = instruction } };
        }
        ConfigSchema.Validate(config);
        return config;
    }

    /// <summary>The resolved config as YAML, every key written out (saved with each checkpoint).</summary>
    public static string ToYaml(TrainConfig config)
    {
        var root = new Dictionary<string, object?>();
        foreach (var key in ConfigSchema.Keys)
        {
            var parts = key.Path.Split('.');
            var map = root;
            foreach (var part in parts[..^1])
            {
                if (!map.TryGetValue(part, out var child)) map[part] = child = new Dictionary<string, object?>();
                map = (Dictionary<string, object?>)child!;
            }
            map[parts[^1]] = key.Get(config);
        }
        return new SerializerBuilder().Build().Serialize(root);
    }

    private static YamlMappingNode ParseYaml(string text, string source)
    {
        var stream = LoadYaml(text, (line, column, reason) => $"{source}: invalid YAML at line {line}, column {column}: {reason}");
        if (stream.Documents.Count == 0) return new YamlMappingNode();
        return stream.Documents[0].RootNode as YamlMappingNode ?? throw new ConfigException($"{source}: the top level must be a mapping of keys.");
    }

    private static YamlNode ParseValue(string key, string text)
    {
        var shown = text.ReplaceLineEndings("\\n");
        var stream = LoadYaml(text, (line, column, reason) => $"--set {key}={shown}: invalid YAML value at line {line}, column {column}: {reason} Quote it to pass a string.");
        return stream.Documents.Count == 0 ? new YamlScalarNode(null) : stream.Documents[0].RootNode;
    }

    /// <summary>
    /// Parses YAML, turning every parser failure into one <see cref="ConfigException"/> with a position. YamlDotNet
    /// reports most errors as <see cref="YamlException"/>s with a mark, but some malformed input (an unclosed flow
    /// collection followed by more lines) ends in a bare InvalidOperationException; the position is then the start
    /// of the last node the parser read.
    /// </summary>
    private static YamlStream LoadYaml(string text, Func<long, long, string, string> describe)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new ConfigException(describe(e.Start.Line, e.Start.Column, e.Message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var mark = parser.Current?.Start ?? Mark.Empty;
            throw new ConfigException(describe(mark.Line, mark.Column, "could not parse the value that starts here; check that every '[', '{' and quote is closed."));
        }
        return stream;
    }

    private static Dictionary<string, YamlNode> Flatten(YamlMappingNode mapping, string source, string prefix = "")
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = prefix + ((keyNode as YamlScalarNode)?.Value ?? throw new ConfigException($"{source}: keys must be plain strings."));
            if (value is YamlMappingNode child && ConfigSchema.Keys.Any(k => k.Path.StartsWith(key + ".", StringComparison.Ordinal)))
                foreach (var (k, v) in Flatten(child, source, key + ".")) result[k] = v;
            else
                result[key] = value;
        }
        return result;
    }

    private static string Closest(string path) =>
        ConfigSchema.Keys.Select(k => k.Path).MinBy(k => Math.Min(Distance(path, k), Distance(path.Split('.')[^1], k.Split('.')[^1]) + 1))!;

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
