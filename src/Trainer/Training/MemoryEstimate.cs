using Trainer.Config;
using Trainer.Models;
using Trainer.Models.Lora;

namespace Trainer.Training;

/// <summary>
/// Per-device memory of a training config, estimated from config.json alone (no weights are read). Weights, LoRA
/// parameters, their gradients and AdamW state are exact counts (the family's, <see cref="ModelFamily"/>); activations
/// are an estimate of what autograd keeps per token, per layer (see <see cref="ActivationBytesPerTokenPerLayer"/>), so
/// read them as the right order of magnitude, not to the megabyte.
/// </summary>
public sealed record MemoryEstimate(
    string Devices, int ReplicaCount, long RowsPerDevice, long SequencesPerDevice, long TokensPerForward, long WeightBytes, long LoraBytes,
    long ActivationsPlain, long ActivationsCheckpointed, long ActivationsGradCache, long ActivationsGradCacheCheckpointed, long EmbeddingCacheBytes,
    bool Checkpointing, int? MicroBatch)
{
    /// <summary>LoRA parameters, their gradients and AdamW's two moments: four float32 copies.</summary>
    public long AdapterTrainingBytes => 4 * LoraBytes;

    public long Activations => (MicroBatch, Checkpointing) switch
    {
        (null, false) => ActivationsPlain,
        (null, true) => ActivationsCheckpointed,
        (_, false) => ActivationsGradCache,
        (_, true) => ActivationsGradCacheCheckpointed,
    };

    public long Total => WeightBytes + AdapterTrainingBytes + Activations + (MicroBatch is null ? 0 : EmbeddingCacheBytes);

    public static MemoryEstimate For(TrainConfig config, ModelFamily family)
    {
        var model = family.Config;
        int dtypeBytes = DTypes.ElementSize(DTypes.Parse(config.Model.DType, "model.dtype"));
        var devices = config.Training.Devices ?? [config.Training.Device];
        int replicas = devices is ["auto"] ? 1 : devices.Count;
        long rows = (config.Training.BatchSize + replicas - 1) / replicas;
        long sequences = 3 * rows;                                 // query, positive, negative per row (at most)
        long perForward = config.Training.MicroBatchSize is int m ? Math.Min(m, sequences) : sequences;
        long S = config.Model.MaxLength, L = model.NumHiddenLayers, H = model.HiddenSize;
        long perLayer = ActivationBytesPerTokenPerLayer(model, config.Lora.ToSettings(), dtypeBytes, S);

        long allTokens = sequences * S, microTokens = perForward * S;
        long plain = allTokens * L * perLayer;
        long checkpointed = allTokens * L * H * dtypeBytes + allTokens * perLayer;   // layer inputs kept, one layer recomputed at a time
        long cached = microTokens * L * perLayer;
        long cachedCheckpointed = microTokens * L * H * dtypeBytes + microTokens * perLayer;
        long globalSequences = 3L * config.Training.BatchSize;
        long embeddingCache = globalSequences * H * 4 * 2 + 2L * config.Training.BatchSize * globalSequences * 4; // embeddings + their grads, logits

        return new MemoryEstimate(string.Join(", ", devices), replicas, rows, sequences, perForward * S, Parameters(family) * dtypeBytes,
            LoraParameters(family, config.Lora.ToSettings()) * 4, plain, checkpointed, cached, cachedCheckpointed, embeddingCache,
            config.Model.GradientCheckpointing, config.Training.MicroBatchSize);
    }

    /// <summary>
    /// What autograd keeps per token in one decoder layer with frozen base weights and LoRA adapters:
    /// ~10·H + 2·Hkv + 4·I values in the model dtype (norm inputs and outputs, q/k/v before and after RoPE, the
    /// attention output, the MLP's gate, up, silu and product), the float32 inputs of every adapter (after dropout,
    /// one per targeted projection) and rank-sized intermediates, and one float32 attention-probability row
    /// (Nh × S) per token for the softmax.
    /// </summary>
    public static long ActivationBytesPerTokenPerLayer(IDecoderConfig m, LoraSettings lora, int dtypeBytes, long sequenceLength)
    {
        long H = m.HiddenSize, I = m.IntermediateSize, kv = (long)m.NumKeyValueHeads * m.HeadDim;
        long model = (10 * H + 2 * kv + 4 * I) * dtypeBytes;
        long adapters = LoraSettings.AllProjections.Where(lora.Targets).Sum(p => p == "down_proj" ? I : H) * 4 + 7L * lora.Rank * 4;
        long attention = (long)m.NumAttentionHeads * sequenceLength * 4;
        return model + adapters + attention;
    }

    public static long Parameters(ModelFamily family) => family.ParameterCount();

    public static long LoraParameters(ModelFamily family, LoraSettings lora) => family.LoraParameterCount(lora);

    public string Table()
    {
        static string G(long bytes) => $"{bytes / (double)(1L << 30),10:F2} GiB";
        string chosen(bool ckpt, bool cache) => Checkpointing == ckpt && (MicroBatch is not null) == cache ? "  <- this config" : "";
        return string.Join(Environment.NewLine,
            $"dry run: {ReplicaCount} device(s) [{Devices}]; per device {RowsPerDevice} rows = {SequencesPerDevice} sequences; {TokensPerForward:N0} tokens per forward",
            $"  weights (frozen base)                 {G(WeightBytes)}",
            $"  LoRA parameters (float32)             {G(LoraBytes)}",
            $"  LoRA gradients + AdamW state (float32){G(3 * LoraBytes)}",
            $"  activations, plain                    {G(ActivationsPlain)}{chosen(false, false)}",
            $"  activations, gradient checkpointing   {G(ActivationsCheckpointed)}{chosen(true, false)}",
            $"  activations, GradCache                {G(ActivationsGradCache)}{chosen(false, true)}",
            $"  activations, GradCache + checkpointing{G(ActivationsGradCacheCheckpointed)}{chosen(true, true)}",
            $"  GradCache embeddings, grads, logits   {G(EmbeddingCacheBytes)}",
            $"  total for this config                 {G(Total)}");
    }
}
