using Trainer.Models.Lora;

namespace Trainer.Models.Mistral;

/// <summary>
/// The tensors a <see cref="MistralModel"/> built from a config holds, computed from the config alone: nothing is
/// allocated, enumeration is lazy and counts use checked 64-bit arithmetic, so a config that claims a million layers
/// or a billion-wide hidden state can be compared with the weight files and refused before any memory is spent.
/// Names are the model's (no <c>model.</c> prefix), in the model's parameter order.
/// </summary>
public static class MistralLayout
{
    /// <summary>One of the seven projections of every decoder layer; <see cref="Name"/> is its path inside a layer.</summary>
    public sealed record Projection(string Name, long InFeatures, long OutFeatures);

    public static IReadOnlyList<Projection> Projections(MistralConfig c)
    {
        long h = c.HiddenSize, i = c.IntermediateSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        return
        [
            new("self_attn.q_proj", h, q), new("self_attn.k_proj", h, kv), new("self_attn.v_proj", h, kv), new("self_attn.o_proj", q, h),
            new("mlp.gate_proj", h, i), new("mlp.up_proj", h, i), new("mlp.down_proj", i, h),
        ];
    }

    /// <summary>Whether the projection has a bias: Qwen2's q, k and v.</summary>
    public static bool HasBias(MistralConfig c, Projection p) => c.QkvBias && p.Name is "self_attn.q_proj" or "self_attn.k_proj" or "self_attn.v_proj";

    /// <summary>
    /// Base tensors: the embedding; per layer seven projections (Qwen2: three biases), Qwen3's two head norms and two
    /// norms; the final norm.
    /// </summary>
    public static long TensorCount(MistralConfig c) => 2 + (9L + (c.QkvBias ? 3 : 0) + (c.QkNorm ? 2 : 0)) * c.NumHiddenLayers;

    /// <summary>Every base tensor with its shape, produced one at a time, in the model's parameter order.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Tensors(MistralConfig c)
    {
        var projections = Projections(c);
        yield return ("embed_tokens.weight", [c.VocabSize, c.HiddenSize]);
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            foreach (var p in projections)
            {
                yield return ($"layers.{layer}.{p.Name}.weight", [p.OutFeatures, p.InFeatures]);
                if (HasBias(c, p)) yield return ($"layers.{layer}.{p.Name}.bias", [p.OutFeatures]);
                if (p.Name == "self_attn.o_proj" && c.QkNorm)
                {
                    yield return ($"layers.{layer}.self_attn.q_norm.weight", [c.HeadDim]);
                    yield return ($"layers.{layer}.self_attn.k_norm.weight", [c.HeadDim]);
                }
            }
            yield return ($"layers.{layer}.input_layernorm.weight", [c.HiddenSize]);
            yield return ($"layers.{layer}.post_attention_layernorm.weight", [c.HiddenSize]);
        }
        yield return ("norm.weight", [c.HiddenSize]);
    }

    /// <summary>Base parameter count; <see cref="OverflowException"/> when it does not fit in 64 bits.</summary>
    public static long ParameterCount(MistralConfig c)
    {
        checked
        {
            long perLayer = 2L * c.HiddenSize + (c.QkNorm ? 2L * c.HeadDim : 0);
            foreach (var p in Projections(c)) perLayer += p.InFeatures * p.OutFeatures + (HasBias(c, p) ? p.OutFeatures : 0);
            return (long)c.VocabSize * c.HiddenSize + c.NumHiddenLayers * perLayer + c.HiddenSize;
        }
    }

    /// <summary>LoRA parameters (A [r, in] and B [out, r] per targeted projection); <see cref="OverflowException"/> past 64 bits.</summary>
    public static long LoraParameterCount(MistralConfig c, LoraSettings lora)
    {
        checked
        {
            long total = 0;
            foreach (var p in Projections(c)) total += TargetedLayers(c, lora, p) * lora.Rank * (p.InFeatures + p.OutFeatures);
            return total;
        }
    }

    /// <summary>
    /// How many layers' <paramref name="projection"/> the settings target. A target that names no layer (<c>q_proj</c>,
    /// <c>self_attn.q_proj</c>) matches every layer alike; one that names a layer contains its index as a path
    /// segment, so only those indices need checking, however many layers the config claims.
    /// </summary>
    public static long TargetedLayers(MistralConfig c, LoraSettings lora, Projection projection)
    {
        var indices = lora.TargetModules.SelectMany(t => t.Split('.')).Select(s => long.TryParse(s, out long n) ? n : -1).Where(n => n >= 0).ToHashSet();
        long unnamed = indices.Count == 0 ? 0 : indices.Max() + 1; // a layer index no target mentions
        if (lora.Targets($"layers.{unnamed}.{projection.Name}")) return c.NumHiddenLayers;
        return indices.Count(i => i < c.NumHiddenLayers && lora.Targets($"layers.{i}.{projection.Name}"));
    }

    /// <summary>
    /// Refuses a LoRA rank above min(in_features, out_features) of a targeted projection (a larger rank adds
    /// parameters but no expressiveness, and a huge one exhausts memory) or below 1, before anything is allocated.
    /// </summary>
    public static void CheckLoraRank(MistralConfig c, LoraSettings lora, string source = "the model")
    {
        var tightest = Projections(c).Where(p => TargetedLayers(c, lora, p) > 0).MinBy(p => Math.Min(p.InFeatures, p.OutFeatures));
        if (tightest is null) return;
        long bound = Math.Min(tightest.InFeatures, tightest.OutFeatures);
        if (lora.Rank < 1 || lora.Rank > bound)
            throw new ArgumentException($"lora.rank = {lora.Rank} is invalid for {source}; it must be between 1 and {bound}, " +
                                        $"min(in_features, out_features) of the targeted {tightest.Name} ({tightest.InFeatures} → {tightest.OutFeatures}).");
    }
}
