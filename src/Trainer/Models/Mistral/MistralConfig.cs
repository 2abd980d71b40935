using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trainer.Models.Mistral;

/// <summary>
/// The architecture fields of a Hugging Face <c>config.json</c> for Mistral (and Llama, which shares the layout).
/// Property names are the HF keys; <see cref="Load"/> validates them once.
/// </summary>
public sealed record MistralConfig : IDecoderConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "mistral";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32000;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 14336;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int NumKeyValueHeads { get; init; } = 8;

    /// <summary>Per-head width; HF defaults it to hidden_size / num_attention_heads when absent or null.</summary>
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-5;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Null means full causal attention.</summary>
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 32768;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 1;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDType { get; init; }

    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    public static MistralConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        MistralConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<MistralConfig>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid config.json ({e.Message})", e);
        }
        if (config is null) throw new InvalidDataException($"{path}: empty config.json");
        config.Validate(path);
        return config;
    }

    /// <summary>Whether the parameter count, and its size in bytes at up to 8 bytes per parameter, fit in a long.</summary>
    private bool FitsInMemoryArithmetic()
    {
        try
        {
            return MistralLayout.ParameterCount(this) <= long.MaxValue / 8;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Throws with the key, the value and what is allowed when the config cannot describe a Mistral model.</summary>
    public void Validate(string source = "config.json")
    {
        void Require(bool ok, string key, object? value, string allowed)
        {
            if (!ok) throw new InvalidDataException($"{source}: {key} = {value ?? "null"} is invalid; {allowed}.");
        }

        Require(ModelType is "mistral" or "llama", "model_type", ModelType, "supported: mistral, llama");
        Require(VocabSize > 0, "vocab_size", VocabSize, "must be > 0");
        Require(HiddenSize > 0, "hidden_size", HiddenSize, "must be > 0");
        Require(IntermediateSize > 0, "intermediate_size", IntermediateSize, "must be > 0");
        Require(NumHiddenLayers > 0, "num_hidden_layers", NumHiddenLayers, "must be > 0");
        Require(NumAttentionHeads > 0, "num_attention_heads", NumAttentionHeads, "must be > 0");
        Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0, "num_key_value_heads", NumKeyValueHeads,
            $"must be > 0 and divide num_attention_heads ({NumAttentionHeads})");
        Require(HeadDimOverride is null ? HiddenSize % NumAttentionHeads == 0 : HeadDimOverride > 0, "head_dim", HeadDimOverride,
            HeadDimOverride is null ? $"absent, so hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads})" : "must be > 0");
        Require(HeadDim % 2 == 0, "head_dim", HeadDim, "must be even for rotary embeddings");
        Require((long)NumAttentionHeads * HeadDim <= int.MaxValue, "head_dim", HeadDim,
            $"num_attention_heads ({NumAttentionHeads}) × head_dim must be ≤ {int.MaxValue}");
        Require(HiddenAct == "silu", "hidden_act", HiddenAct, "supported: silu");
        Require(RmsNormEps > 0, "rms_norm_eps", RmsNormEps, "must be > 0");
        Require(RopeTheta > 0, "rope_theta", RopeTheta, "must be > 0");
        Require(SlidingWindow is null or > 0, "sliding_window", SlidingWindow, "must be null or > 0");
        Require(BosTokenId >= 0 && BosTokenId < VocabSize, "bos_token_id", BosTokenId, $"must be in [0, {VocabSize})");
        Require(EosTokenId >= 0 && EosTokenId < VocabSize, "eos_token_id", EosTokenId, $"must be in [0, {VocabSize})");
        if (!FitsInMemoryArithmetic())
            throw new InvalidDataException($"{source}: vocab_size = {VocabSize}, hidden_size = {HiddenSize}, intermediate_size = {IntermediateSize} and " +
                                           $"num_hidden_layers = {NumHiddenLayers} give a parameter count whose byte size overflows a 64-bit integer.");
    }
}
