using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Models.Mistral;

namespace Trainer.Models.Qwen2;

/// <summary>
/// A Qwen2 / Qwen2.5 <c>config.json</c> (<c>model_type: qwen2</c>; gte-Qwen2, Qwen2.5 bases): Hugging Face's
/// <c>Qwen2Model</c> is the Mistral decoder with a bias on the q, k and v projections (none on o_proj), so it binds to
/// <see cref="MistralConfig"/> with <see cref="MistralConfig.QkvBias"/> set. Before binding, this pass
/// <list type="bullet">
/// <item>fills the keys a Qwen2 config may leave out with <c>Qwen2Config</c>'s defaults where they differ from Mistral's
/// (rms_norm_eps 1e-6; num_key_value_heads = num_attention_heads);</item>
/// <item>refuses <c>use_sliding_window: true</c> and a <c>layer_types</c> with a sliding layer, naming the key, and
/// otherwise drops <c>sliding_window</c> and <c>max_window_layers</c>, which transformers ignores then (full causal
/// attention in every layer).</item>
/// </list>
/// </summary>
public static class Qwen2Config
{
    public static MistralConfig Load(string path)
    {
        var json = MistralConfig.ReadObject(path);
        FillQwenDefaults(json, headDim: null);
        CheckWindowKeys(json, path);
        return MistralConfig.Bind(json, path, c => c with { QkvBias = true });
    }

    /// <summary>
    /// Qwen2's and Qwen3's defaults for absent keys that change the numerics; with <paramref name="headDim"/>, an absent
    /// head_dim too (Qwen3's default is 128, whatever hidden_size / num_attention_heads is).
    /// </summary>
    public static void FillQwenDefaults(JsonObject json, int? headDim)
    {
        json["rms_norm_eps"] ??= 1e-6;
        if (json["num_key_value_heads"] is null && json["num_attention_heads"] is { } heads) json["num_key_value_heads"] = heads.DeepClone();
        if (headDim is { } d) json["head_dim"] ??= d;
    }

    /// <summary>The sliding-window keys of Qwen2 and Qwen3: refused when they turn the window on, else dropped.</summary>
    public static void CheckWindowKeys(JsonObject json, string path)
    {
        if (json["use_sliding_window"] is { } use && use.GetValueKind() != JsonValueKind.False)
            throw new InvalidDataException($"{path}: use_sliding_window = {use.ToJsonString()} is not supported; only false (full causal attention in " +
                                           "every layer, as the released Qwen2, Qwen2.5 and Qwen3 models use) is implemented.");
        if (json["layer_types"] is JsonArray types && types.FirstOrDefault(t => t?.GetValueKind() != JsonValueKind.String || t.GetValue<string>() != "full_attention") is { } other)
            throw new InvalidDataException($"{path}: layer_types holds {other.ToJsonString()}, which is not supported; only \"full_attention\" layers are implemented.");
        json.Remove("sliding_window");
        json.Remove("max_window_layers");
    }
}
