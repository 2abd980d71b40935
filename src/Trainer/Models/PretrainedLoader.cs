using Trainer.Models.Lora;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// Loads a Hugging Face model folder (config.json + safetensors) into the <see cref="EmbeddingDecoder"/> of the family
/// that <c>model_type</c> names (<see cref="ModelFamilies"/>). Keys may carry the <c>model.</c> prefix (…ForCausalLM
/// checkpoints) or not (…Model checkpoints such as e5-mistral-7b-instruct): the <see cref="KeyLayout"/> is read from
/// the files and handed to the model. <c>lm_head.weight</c> is ignored. Loading is strict: every model parameter must be
/// present with its exact shape and nothing else may be stored. Before anything is allocated, the LoRA rank, the
/// stored names, shapes and dtypes (from the headers) and the memory the model needs are checked against the config.
/// Tensors then stream file by file into the model's own storage, so peak memory is one model in the target dtype
/// plus one 64 MiB staging chunk.
/// </summary>
public static class PretrainedLoader
{
    public const string ConfigFile = "config.json";
    private static readonly string[] IgnoredKeys = ["lm_head.weight"];

    /// <summary>Stored tensors that an embedding model does not use (the language-model head), skipped wherever weights are read.</summary>
    public static bool IsIgnored(string storedName) => IgnoredKeys.Contains(storedName);

    /// <param name="ropeTheta">Replaces the config's <c>rope_theta</c> for this model (<see cref="ModelFamily.WithRopeTheta"/>); null: the config's.</param>
    public static EmbeddingDecoder Load(string modelDir, ScalarType dtype, Device? device = null, LoraSettings? lora = null, double? ropeTheta = null)
    {
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder not found: {modelDir}");
        var configPath = Path.Combine(modelDir, ConfigFile);
        var family = ModelFamilies.Load(configPath);
        if (ropeTheta is { } theta) family = family.WithRopeTheta(theta);
        if (lora is not null) family.CheckLoraRank(lora, configPath);
        var files = WeightFiles.Find(modelDir);
        var keys = CheckTensors(family, files, modelDir, configPath);
        device ??= CPU;
        ModelMemory.Check(family, dtype, lora, device, modelDir);
        var model = family.Create(dtype, device, lora, keys);
        try
        {
            LoadWeights(model, files, modelDir);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// Compares the stored tensors with the ones the config implies (<see cref="ModelFamily.Tensors"/>): names, shapes
    /// and floating-point dtypes, from the headers alone; returns the files' key layout. It stops at the first
    /// misshaped tensor or the fifth missing one, so a config claiming far more than the files hold is refused after
    /// reading only the headers.
    /// </summary>
    public static KeyLayout CheckTensors(ModelFamily family, WeightFiles files, string source, string configPath)
    {
        var stored = files.TensorToFile.Keys.Where(n => !IsIgnored(n)).ToHashSet(StringComparer.Ordinal);
        var keys = KeyLayout.Of(stored);
        var missing = new List<string>();
        int found = 0;
        foreach (var (name, shape) in family.Tensors())
        {
            string key = keys.Stored(name);
            if (!stored.Contains(key))
            {
                missing.Add(key);
                if (missing.Count == 5) break;
                continue;
            }
            found++;
            var entry = files.Entry(key);
            if (!entry.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{files.TensorToFile[key]}: tensor '{key}' has shape [{string.Join(", ", entry.Shape)}], the model expects [{string.Join(", ", shape)}] from {configPath}.");
            if (!entry.IsFloatingPoint)
                throw new InvalidDataException($"{files.TensorToFile[key]}: tensor '{key}' is stored as {entry.DType}; model weights must be one of {string.Join(", ", SafetensorsHeader.FloatDTypes)}.");
        }
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: missing tensor(s) {Describe(missing)} ({configPath} with num_hidden_layers = {family.Config.NumHiddenLayers} " +
                                           $"implies {family.TensorCount()} tensors; the weights hold {stored.Count}).");
        if (found < stored.Count)
        {
            var expected = family.Tensors().Select(t => keys.Stored(t.Name)).ToHashSet(StringComparer.Ordinal);
            throw new InvalidDataException($"{source}: unexpected tensor(s) {Describe(stored.Where(n => !expected.Contains(n)).ToList())} (the model has no such parameter).");
        }
        return keys;
    }

    /// <summary>
    /// Model parameter name → stored tensor name, after checking that the two key sets match exactly. The LoRA
    /// adapters (<c>lora_A</c>/<c>lora_B</c>) are the only parameters a base checkpoint may lack.
    /// </summary>
    public static Dictionary<string, string> MapKeys(IEnumerable<string> parameterNames, IEnumerable<string> storedNames, KeyLayout keys, string source)
    {
        var stored = storedNames.Where(n => !IsIgnored(n)).ToHashSet(StringComparer.Ordinal);
        var map = parameterNames.Where(n => !IsAdapterKey(n)).ToDictionary(n => n, keys.Stored, StringComparer.Ordinal);
        var missing = map.Values.Where(n => !stored.Contains(n)).ToList();
        var unexpected = stored.Except(map.Values).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: missing tensor(s) {Describe(missing)}.");
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{source}: unexpected tensor(s) {Describe(unexpected)} (the model has no such parameter).");
        return map;
    }

    private static bool IsAdapterKey(string name) => name.Contains(".lora_A.", StringComparison.Ordinal) || name.Contains(".lora_B.", StringComparison.Ordinal);

    private static void LoadWeights(EmbeddingDecoder model, WeightFiles files, string modelDir)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var map = MapKeys(parameters.Keys, files.TensorToFile.Keys, model.KeyLayout, modelDir);
        foreach (var group in map.GroupBy(kv => files.TensorToFile[kv.Value]))
        {
            using var reader = new SafetensorsReader(group.Key);
            foreach (var (parameterName, storedName) in group)
                reader.CopyInto(storedName, parameters[parameterName]);
        }
    }

    private static string Describe(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
}
