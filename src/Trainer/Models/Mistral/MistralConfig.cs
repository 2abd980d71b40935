using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Trainer.Models.Modules;

namespace Trainer.Models.Mistral;

/// <summary>
/// The architecture fields of a Hugging Face <c>config.json</c> for Mistral, and for the families that are the same
/// decoder with a switch or two: Llama (Llama 3.1's RoPE rescale included), Qwen2 (<see cref="QkvBias"/>, read by
/// <see cref="Qwen2.Qwen2Config"/>) and Qwen3 (<see cref="QkNorm"/>, read by <see cref="Qwen3.Qwen3Config"/>).
/// Property names are the HF keys; <see cref="Load"/> validates them once. Keys that would make Hugging Face compute
/// something this model does not (scaled or partial RoPE, biases, attention dropout, a Llama sliding window) are
/// refused by name rather than ignored; see <see cref="CheckArchitectureKeys"/>.
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

    /// <summary>
    /// HF allows a list here (as for eos_token_id); the first id is kept. The BOS that starts each sequence is the
    /// tokenizer's own (tokenizer.model's bos_id); this id is written to embedding_config.json.
    /// </summary>
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; } = 1;

    /// <summary>
    /// HF allows a list (Llama 3.1 Instruct: [128001, 128008, 128009], all of which stop generation); the first id is
    /// kept. It pads batches and is written to embedding_config.json; the EOS appended to each sequence (and pooled)
    /// is the tokenizer's own (tokenizer.model's eos_id).
    /// </summary>
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDType { get; init; }

    /// <summary>Llama 3.1's frequency rescale, from <c>rope_scaling</c> (or transformers 5's <c>rope_parameters</c>) with rope type llama3; null: plain RoPE.</summary>
    [JsonIgnore] public Llama3RopeScaling? RopeScaling { get; init; }

    /// <summary>Qwen2: the q, k and v projections have a bias (o_proj has none).</summary>
    [JsonIgnore] public bool QkvBias { get; init; }

    /// <summary>Qwen3: q and k are RMS-normalised per head, over head_dim (<c>q_norm</c>, <c>k_norm</c>), before RoPE.</summary>
    [JsonIgnore] public bool QkNorm { get; init; }

    /// <summary>Values quoted in error messages as a user wrote them ("&lt;s&gt;", not "\u003Cs\u003E").</summary>
    private static readonly JsonSerializerOptions AsWritten = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    public static MistralConfig Load(string path) => Bind(ReadObject(path), path);

    /// <summary>The config.json at <paramref name="path"/> as a JSON object, or an error naming the file.</summary>
    public static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: config.json must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid config.json ({e.Message})", e);
        }
    }

    /// <summary>Checks the raw keys (<see cref="CheckArchitectureKeys"/>), binds and validates; <paramref name="family"/> sets a family's switches.</summary>
    public static MistralConfig Bind(JsonObject json, string path, Func<MistralConfig, MistralConfig>? family = null)
    {
        MistralConfig? config;
        try
        {
            var scaling = CheckArchitectureKeys(json, path);
            config = json.Deserialize<MistralConfig>() is { } bound ? bound with { RopeScaling = scaling } : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid config.json ({e.Message})", e);
        }
        if (config is null) throw new InvalidDataException($"{path}: empty config.json");
        if (family is not null) config = family(config);
        config.Validate(path);
        return config;
    }

    /// <summary>
    /// The pass over the raw JSON before binding. Refuses, naming the key, its value and what is supported, each HF key
    /// whose value would change the numerics of HF's <c>MistralModel</c>/<c>LlamaModel</c> in a way this model does not
    /// implement: <c>rope_scaling</c> (linear, dynamic, yarn, ...) and transformers 5's <c>rope_parameters</c> other
    /// than the default and llama3 rope types (llama3 is returned, its four values checked), <c>partial_rotary_factor</c> ≠ 1, <c>attention_bias</c> or <c>mlp_bias</c>
    /// true, <c>attention_dropout</c> ≠ 0 (HF applies it while training), and a <c>sliding_window</c> on a Llama
    /// config (HF's Llama ignores it; this model would apply it). Also normalises what binding cannot: a list-valued
    /// <c>bos_token_id</c>/<c>eos_token_id</c> becomes its first id, and the rope_theta of <c>rope_parameters</c>
    /// fills a missing top-level <c>rope_theta</c>.
    /// </summary>
    private static Llama3RopeScaling? CheckArchitectureKeys(JsonObject json, string source)
    {
        InvalidDataException Unsupported(string key, JsonNode? value, string supported) =>
            new($"{source}: {key} = {value?.ToJsonString(AsWritten) ?? "null"} is not supported; {supported}.");
        static double? Number(JsonNode? node) => node?.GetValueKind() == JsonValueKind.Number ? node.GetValue<double>() : null;
        static bool Is(JsonNode? node, double number) => Number(node) == number;
        static bool IsText(JsonNode? node, string text) => node?.GetValueKind() == JsonValueKind.String && node.GetValue<string>() == text;
        static bool IsRope(JsonObject rope, string kind) => (rope["rope_type"] ?? rope["type"]) is not { } type ? kind == "default" : IsText(type, kind);
        const string Supported = "only plain RoPE (null, or rope_type default) and rope_type llama3 (Llama 3.1's rescale) are implemented";
        string[] llama3Keys = ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"];

        Llama3RopeScaling? Llama3(string key, JsonObject rope, IEnumerable<string> alsoAllowed)
        {
            var allowed = llama3Keys.Concat(alsoAllowed).Concat(["rope_type", "type"]).ToHashSet();
            if (rope.FirstOrDefault(kv => !allowed.Contains(kv.Key)) is { Key: { } unknown } extra)
                throw Unsupported($"{key}.{unknown}", extra.Value, $"a llama3 {key} has {string.Join(", ", llama3Keys)}");
            double Value(string field) => Number(rope[field])
                ?? throw new InvalidDataException($"{source}: {key}.{field} = {rope[field]?.ToJsonString(AsWritten) ?? "missing"} is invalid; a llama3 {key} needs it as a number.");
            var scaling = new Llama3RopeScaling(Value("factor"), Value("low_freq_factor"), Value("high_freq_factor"), Value("original_max_position_embeddings"));
            scaling.Validate(key, source);
            return scaling;
        }

        Llama3RopeScaling? scaling = null;
        if (json["rope_scaling"] is { } ropeScaling)
        {
            if (ropeScaling is not JsonObject s || !(IsRope(s, "default") || IsRope(s, "llama3"))) throw Unsupported("rope_scaling", ropeScaling, Supported);
            if (IsRope(s, "llama3")) scaling = Llama3("rope_scaling", s, []);
        }
        if (json["rope_parameters"] is { } parameters)
        {
            if (parameters is not JsonObject p || !(IsRope(p, "default") || IsRope(p, "llama3"))) throw Unsupported("rope_parameters", parameters, Supported);
            if (IsRope(p, "default") && p.FirstOrDefault(kv => kv.Key is not ("rope_type" or "type" or "rope_theta")) is { Key: { } unknown } extra)
                throw Unsupported($"rope_parameters.{unknown}", extra.Value, "a default rope_parameters has only rope_type and rope_theta");
            if (IsRope(p, "llama3"))
            {
                var fromParameters = Llama3("rope_parameters", p, ["rope_theta"]);
                if (scaling is not null && scaling != fromParameters)
                    throw Unsupported("rope_parameters", parameters, "it must agree with rope_scaling when both are given");
                scaling = fromParameters;
            }
            if (p["rope_theta"] is { } theta)
            {
                if (json["rope_theta"] is { } top && Number(top) != Number(theta))
                    throw Unsupported("rope_parameters.rope_theta", theta, $"it must equal rope_theta ({top.ToJsonString()}) when both are given");
                json["rope_theta"] = theta.DeepClone();
            }
        }
        if (json["partial_rotary_factor"] is { } partial && !Is(partial, 1.0))
            throw Unsupported("partial_rotary_factor", partial, "only 1 (rotary embedding over the whole head) is implemented");
        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
            if (json[bias] is { } value && value.GetValueKind() != JsonValueKind.False)
                throw Unsupported(bias, value, "only false (projections without bias) is implemented");
        if (json["attention_dropout"] is { } dropout && !Is(dropout, 0.0))
            throw Unsupported("attention_dropout", dropout, "only 0: Hugging Face drops attention weights while training, this trainer does not (its dropout is lora.dropout)");
        if (IsText(json["model_type"], "llama") && json["sliding_window"] is { } window)
            throw Unsupported("sliding_window", window, "Hugging Face's Llama has no sliding window (full causal attention), so with model_type llama it must be null or absent");
        foreach (var key in new[] { "bos_token_id", "eos_token_id" })
        {
            if (json[key] is not JsonArray ids) continue;
            if (ids.Count == 0 || ids.Any(id => id?.GetValueKind() != JsonValueKind.Number))
                throw Unsupported(key, ids, "an integer, or a non-empty list of integers (its first id is used)");
            json[key] = ids[0]!.DeepClone();
        }
        return scaling;
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

        Require(ModelType is "mistral" or "llama" or "qwen2" or "qwen3", "model_type", ModelType, "supported: mistral, llama, qwen2, qwen3");
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
        Require(BosTokenId is null || (BosTokenId >= 0 && BosTokenId < VocabSize), "bos_token_id", BosTokenId, $"must be in [0, {VocabSize})");
        Require(EosTokenId >= 0 && EosTokenId < VocabSize, "eos_token_id", EosTokenId, $"must be in [0, {VocabSize})");
        if (!FitsInMemoryArithmetic())
            throw new InvalidDataException($"{source}: vocab_size = {VocabSize}, hidden_size = {HiddenSize}, intermediate_size = {IntermediateSize} and " +
                                           $"num_hidden_layers = {NumHiddenLayers} give a parameter count whose byte size overflows a 64-bit integer.");
    }
}
