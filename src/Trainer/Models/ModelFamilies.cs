using System.Text.Json;
using System.Text.Json.Serialization;
using Trainer.Models.Mistral;
using Trainer.Models.Qwen2;
using Trainer.Models.Qwen3;

namespace Trainer.Models;

/// <summary>
/// The one place a model family is chosen: <c>config.json</c>'s <c>model_type</c> → the family that reads the rest of
/// the config and builds the model. A new family is a folder beside <c>Mistral/</c> and one line in <see cref="Load"/>;
/// Qwen2 and Qwen3 are the Mistral decoder with a switch each, so their folders hold only how their config is read.
/// </summary>
public static class ModelFamilies
{
    /// <summary>Reads <paramref name="configPath"/> with the family its <c>model_type</c> names (absent: mistral, as <see cref="MistralConfig"/> defaults it).</summary>
    public static ModelFamily Load(string configPath) => ModelType(configPath) switch
    {
        "mistral" or "llama" => new MistralFamily(MistralConfig.Load(configPath)),
        "qwen2" => new MistralFamily(Qwen2Config.Load(configPath)),
        "qwen3" => new MistralFamily(Qwen3Config.Load(configPath)),
        var other => throw new InvalidDataException($"{configPath}: model_type = {other} is invalid; supported: mistral, llama, qwen2, qwen3."),
    };

    private static string ModelType(string configPath)
    {
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Model config not found: {configPath}", configPath);
        try
        {
            return JsonSerializer.Deserialize<ModelTypeField>(File.ReadAllText(configPath))?.ModelType ?? "mistral";
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not a valid config.json ({e.Message})", e);
        }
    }

    private sealed record ModelTypeField([property: JsonPropertyName("model_type")] string? ModelType);
}
