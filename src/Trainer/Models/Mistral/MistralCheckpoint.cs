using Trainer.Models.Lora;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// Loads a Hugging Face Mistral/Llama folder (config.json + safetensors) into a <see cref="MistralModel"/>.
/// Keys may carry the <c>model.</c> prefix (…ForCausalLM checkpoints) or not (MistralModel checkpoints such as
/// e5-mistral-7b-instruct); <c>lm_head.weight</c> is ignored. Loading is strict: every model parameter must be
/// present with its exact shape and nothing else may be stored. Tensors stream file by file into the model's own
/// storage, so peak memory is one model in the target dtype plus one 64 MiB staging chunk.
/// </summary>
public static class MistralCheckpoint
{
    public const string ConfigFile = "config.json";
    private static readonly string[] IgnoredKeys = ["lm_head.weight"];

    public static MistralModel Load(string modelDir, ScalarType dtype, Device? device = null, LoraSettings? lora = null)
    {
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder not found: {modelDir}");
        var config = MistralConfig.Load(Path.Combine(modelDir, ConfigFile));
        var files = CheckpointFiles.Find(modelDir);
        var model = new MistralModel(config, dtype, device ?? CPU, lora);
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
    /// Model parameter name → stored tensor name, after checking that the two key sets match exactly. The LoRA
    /// adapters (<c>lora_A</c>/<c>lora_B</c>) are the only parameters a base checkpoint may lack.
    /// </summary>
    public static Dictionary<string, string> MapKeys(IEnumerable<string> parameterNames, IEnumerable<string> storedNames, string source)
    {
        var stored = storedNames.Where(n => !IgnoredKeys.Contains(n)).ToHashSet(StringComparer.Ordinal);
        string prefix = KeyPrefix(stored);
        var map = parameterNames.Where(n => !IsAdapterKey(n)).ToDictionary(n => n, n => prefix + n, StringComparer.Ordinal);
        var missing = map.Values.Where(n => !stored.Contains(n)).ToList();
        var unexpected = stored.Except(map.Values).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: missing tensor(s) {Describe(missing)}.");
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{source}: unexpected tensor(s) {Describe(unexpected)} (the model has no such parameter).");
        return map;
    }

    public static string KeyPrefix(IEnumerable<string> storedNames) =>
        storedNames.Any(n => n.StartsWith("model.", StringComparison.Ordinal)) ? "model." : "";

    private static bool IsAdapterKey(string name) => name.Contains(".lora_A.", StringComparison.Ordinal) || name.Contains(".lora_B.", StringComparison.Ordinal);

    private static void LoadWeights(MistralModel model, CheckpointFiles files, string modelDir)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var map = MapKeys(parameters.Keys, files.TensorToFile.Keys, modelDir);
        model.CheckpointKeyPrefix = KeyPrefix(files.TensorToFile.Keys);
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
