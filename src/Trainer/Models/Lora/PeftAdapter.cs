using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Models.Lora;

/// <summary>
/// LoRA adapters in PEFT's format, so Python users can load them with <c>PeftModel.from_pretrained</c>:
/// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> / <c>.lora_B.weight</c>, where &lt;module&gt; is the projection's
/// path in Hugging Face's <c>MistralModel</c> (what <c>AutoModel</c> builds): <c>layers.0.self_attn.q_proj</c>, never
/// with the <c>model.</c> prefix that …ForCausalLM checkpoints give their weights. PEFT matches these keys against the
/// module names of the model it wraps and renames nothing, so this one layout loads into <c>AutoModel</c> whatever
/// prefix the base checkpoint had (docs/peft-layout.md). Reading also accepts the prefixed layout
/// (<c>base_model.model.model.layers…</c>): adapters this trainer wrote for such checkpoints before, and adapters PEFT
/// saved from a …ForCausalLM.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    private const string KeyRoot = "base_model.model.";
    private const string LoraASuffix = ".lora_A.weight";

    /// <summary>adapter_config.json settings that change the adapter's arithmetic, which this trainer does not implement: value allowed.</summary>
    private static readonly (string Key, string Allowed)[] Unsupported =
        [("use_rslora", "false"), ("use_dora", "false"), ("rank_pattern", "{}"), ("alpha_pattern", "{}")];

    /// <summary>Whether an adapter key holds a lora_A matrix.</summary>
    public static bool IsLoraAKey(string key) => key.EndsWith(LoraASuffix, StringComparison.Ordinal);

    /// <summary>
    /// The base weight an adapter's lora_A key targets, spelled as <paramref name="baseLayout"/> spells the base checkpoint's
    /// keys, and its lora_B key: <c>base_model.model.[model.]X.lora_A.weight</c> → <c>[model.]X.weight</c>, either layout.
    /// </summary>
    public static (string BaseKey, string LoraBKey) Targets(string loraAKey, KeyLayout baseLayout)
    {
        if (!loraAKey.StartsWith(KeyRoot, StringComparison.Ordinal) || !IsLoraAKey(loraAKey))
            throw new InvalidDataException($"Adapter tensor '{loraAKey}' is not a PEFT key of the form {KeyRoot}<module>{LoraASuffix}.");
        var module = loraAKey[..^LoraASuffix.Length];
        var path = module[KeyRoot.Length..];
        if (path.StartsWith(KeyLayout.CausalLm.Prefix, StringComparison.Ordinal)) path = path[KeyLayout.CausalLm.Prefix.Length..];
        return (baseLayout.Stored(path + ".weight"), module + ".lora_B.weight");
    }

    /// <summary>The adapter's rank, alpha, dropout and targets from its <c>adapter_config.json</c>.</summary>
    public static LoraSettings ReadSettings(string dir)
    {
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"Adapter config not found: {path}", path);
        var json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: empty.");
        if (json["peft_type"]?.GetValue<string>() is { } type && type != "LORA")
            throw new InvalidDataException($"{path}: peft_type = {type} is not supported; expected LORA.");
        int rank = json["r"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: missing \"r\".");
        double alpha = json["lora_alpha"]?.GetValue<double>() ?? throw new InvalidDataException($"{path}: missing \"lora_alpha\".");
        double dropout = json["lora_dropout"]?.GetValue<double>() ?? 0;
        var targets = json["target_modules"] switch
        {
            JsonArray array => array.Select(t => t!.GetValue<string>()).ToList(),
            JsonValue single => [single.GetValue<string>()],
            _ => throw new InvalidDataException($"{path}: missing \"target_modules\"."),
        };
        foreach (var (key, allowed) in Unsupported)
        {
            if (json[key] is { } value && value.ToJsonString() is var given && given != allowed)
                throw new NotSupportedException($"{path}: \"{key}\": {given} is not supported; only {allowed} (plain LoRA, scaling alpha / r).");
        }
        return new LoraSettings(rank, alpha, dropout, targets);
    }

    public static void Save(string dir, EmbeddingDecoder model, string baseModelPath)
    {
        var lora = model.Lora ?? throw new InvalidOperationException("The model has no LoRA adapters to save.");
        Directory.CreateDirectory(dir);
        var config = new Dictionary<string, object?>
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "FEATURE_EXTRACTION",
            ["r"] = lora.Rank,
            ["lora_alpha"] = lora.Alpha,
            ["lora_dropout"] = lora.Dropout,
            ["target_modules"] = lora.TargetModules,
            ["bias"] = "none",
            ["base_model_name_or_path"] = baseModelPath,
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["inference_mode"] = true,
        };
        File.WriteAllText(Path.Combine(dir, ConfigFile), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        var tensors = Keys(model).ToDictionary(k => k.Key, k => (Tensor)k.Parameter);
        SafetensorsWriter.Write(Path.Combine(dir, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Loads every adapter tensor into the model; rank and alpha must match the model's settings.</summary>
    public static void Load(string dir, EmbeddingDecoder model)
    {
        var lora = model.Lora ?? throw new InvalidOperationException("The model was built without LoRA adapters.");
        var stored = ReadSettings(dir);
        if (stored.Rank != lora.Rank || stored.Alpha != lora.Alpha)
            throw new InvalidDataException($"Adapter {dir} has r = {stored.Rank}, lora_alpha = {stored.Alpha}; the model expects r = {lora.Rank}, lora_alpha = {lora.Alpha}.");
        var path = Path.Combine(dir, WeightsFile);
        using var reader = new SafetensorsReader(path);
        var expected = Keys(model, LayoutOf(reader.Header.Entries.Keys)).ToList();
        var missing = expected.Where(k => !reader.Header.Entries.ContainsKey(k.Key)).Select(k => k.Key).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{path}: missing adapter tensor(s) {string.Join(", ", missing.Take(5).Select(m => $"'{m}'"))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}.");
        var unexpected = reader.Header.Entries.Keys.Except(expected.Select(k => k.Key)).ToList();
        if (unexpected.Count > 0) throw new InvalidDataException($"{path}: unexpected tensor(s) {string.Join(", ", unexpected.Take(5).Select(m => $"'{m}'"))} (no such adapter in the model; check target_modules).");
        foreach (var (key, parameter) in expected) reader.CopyInto(key, parameter);
    }

    /// <summary>PEFT key → adapter parameter, for every LoRA projection of the model, in the layout this trainer writes.</summary>
    public static IEnumerable<(string Key, TorchSharp.Modules.Parameter Parameter)> Keys(EmbeddingDecoder model) => Keys(model, KeyLayout.Bare);

    /// <summary>The keys with the module paths spelled as <paramref name="layout"/> spells them (the prefixed layout is read, never written).</summary>
    private static IEnumerable<(string Key, TorchSharp.Modules.Parameter Parameter)> Keys(EmbeddingDecoder model, KeyLayout layout)
    {
        foreach (var (path, adapter) in model.Adapters())
        {
            yield return ($"{KeyRoot}{layout.Stored(path)}.lora_A.weight", adapter.lora_A.weight);
            yield return ($"{KeyRoot}{layout.Stored(path)}.lora_B.weight", adapter.lora_B.weight);
        }
    }

    /// <summary>Which layout an adapter file's keys use: prefixed when any module path under <c>base_model.model.</c> starts with <c>model.</c>.</summary>
    private static KeyLayout LayoutOf(IEnumerable<string> keys) =>
        KeyLayout.Of(keys.Where(k => k.StartsWith(KeyRoot, StringComparison.Ordinal)).Select(k => k[KeyRoot.Length..]));
}
