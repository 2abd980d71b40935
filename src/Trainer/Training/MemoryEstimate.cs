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
        int k = config.Data.NegativesPerQuery;
        long sequences = (2 + k) * rows;                           // query, positive and k negatives per row (at most)
        long perForward = config.Training.MicroBatchSize is int m ? Math.Min(m, sequences) : sequences;
        long S = config.Model.MaxLength, H = model.HiddenSize;
        var lora = config.Lora.ToSettings();
        long Peak(long tokens, bool checkpointing) => Forward(model, lora, dtypeBytes, S, tokens, tokens, checkpointing).Peak; // every row full: no padding

        long allTokens = sequences * S, microTokens = perForward * S;
        long plain = Peak(allTokens, false), checkpointed = Peak(allTokens, true);
        long cached = Peak(microTokens, false), cachedCheckpointed = Peak(microTokens, true);
        long globalSequences = (2L + k) * config.Training.BatchSize;
        long embeddingCache = globalSequences * H * 4 * 2 + 2L * config.Training.BatchSize * globalSequences * 4; // embeddings + their grads, logits

        return new MemoryEstimate(string.Join(", ", devices), replicas, rows, sequences, perForward * S, Parameters(family) * dtypeBytes,
            LoraParameters(family, lora) * 4, plain, checkpointed, cached, cachedCheckpointed, embeddingCache,
            config.Model.GradientCheckpointing, config.Training.MicroBatchSize);
    }

    /// <summary>
    /// One forward over <paramref name="tokens"/> real tokens in a padded grid of <paramref name="positions"/> (sequences
    /// of <paramref name="sequenceLength"/>): what it keeps until backward (every layer's activations, or with
    /// checkpointing only each layer's input, plus the final norm's), and the peak during backward (plus the gradients
    /// alive at once and, with checkpointing, the layer being recomputed). The layers run on the real tokens alone
    /// (<see cref="Models.Modules.TokenPacking"/>); only attention's share is kept for every position of the grid.
    /// </summary>
    public static (long Kept, long Peak) Forward(IDecoderConfig m, LoraSettings lora, int dtypeBytes, long sequenceLength, long tokens, long positions, bool checkpointing)
    {
        long perLayer = tokens * TokenBytesPerLayer(m, lora, dtypeBytes) + positions * AttentionBytesPerPosition(m, dtypeBytes, sequenceLength);
        long perToken = 4L * m.HiddenSize + 4;                                              // the final RMSNorm's float32 input and 1/rms
        long layer = checkpointing ? tokens * m.HiddenSize * dtypeBytes : perLayer;        // what each layer keeps until backward
        long kept = layer * m.NumHiddenLayers + tokens * perToken;
        return (kept, kept + (checkpointing ? perLayer : 0) + tokens * BackwardBytesPerToken(m, checkpointing));
    }

    /// <summary>
    /// What autograd keeps per token in one decoder layer with frozen base weights and LoRA adapters, counted from what
    /// each operation saves for its backward (a frozen projection saves nothing; d = the base dtype's bytes):
    /// <list type="bullet">
    /// <item>both RMSNorms: their float32 input and 1/rms, 2 × (4·H + 4);</item>
    /// <item>attention: q, and k and v repeated to every query head, after RoPE, and the output, 4 × Nh·Dh·d; then
    /// the causal kernel (right padding, no window shorter than <paramref name="sequenceLength"/>) keeps a float32
    /// log-sum-exp per head, Nh × 4, while the masked path keeps the probabilities, Nh × S × d;</item>
    /// <item>the MLP: gate, silu(gate) and up, 3·I·d;</item>
    /// <item>each adapter, in its compute dtype (float32, or d with <see cref="LoraSettings.InModelDtype"/>): with
    /// dropout its dropped input and the bool mask, 4 + 1 (or d + 1) bytes per input feature; without dropout its input
    /// (one for q/k/v and one for gate/up where no cast separates them: a float32 base, or the model dtype); and the
    /// rank-r intermediate that B reads.</item>
    /// </list>
    /// scripts/activation-memory.cs measures what a forward keeps on the CPU (glibc's bytes in use); a 4-layer,
    /// hidden-512 model at 256 tokens kept 58,886 B per token per layer against 58,584 counted here (docs/benchmarks.md).
    /// </summary>
    public static long ActivationBytesPerTokenPerLayer(IDecoderConfig m, LoraSettings lora, int dtypeBytes, long sequenceLength) =>
        TokenBytesPerLayer(m, lora, dtypeBytes) + AttentionBytesPerPosition(m, dtypeBytes, sequenceLength);

    /// <summary>The share of <see cref="ActivationBytesPerTokenPerLayer"/> kept per real token: the norms, the MLP and the adapters.</summary>
    private static long TokenBytesPerLayer(IDecoderConfig m, LoraSettings lora, int dtypeBytes)
    {
        long H = m.HiddenSize, I = m.IntermediateSize;
        long norms = 2 * (4 * H + 4);
        long mlp = 3 * I * dtypeBytes;
        return norms + mlp + AdapterBytesPerToken(m, lora, dtypeBytes);
    }

    /// <summary>The share kept per position of the padded grid: attention's q, k, v, output and log-sum-exp (or probabilities).</summary>
    private static long AttentionBytesPerPosition(IDecoderConfig m, int dtypeBytes, long sequenceLength)
    {
        long heads = m.NumAttentionHeads, q = heads * m.HeadDim;
        bool causalKernel = m.SlidingWindow is not int window || window >= sequenceLength;
        return 4 * q * dtypeBytes + (causalKernel ? heads * 4 : heads * sequenceLength * dtypeBytes);
    }

    /// <summary>The adapters' share of <see cref="ActivationBytesPerTokenPerLayer"/>.</summary>
    private static long AdapterBytesPerToken(IDecoderConfig m, LoraSettings lora, int dtypeBytes)
    {
        long H = m.HiddenSize, I = m.IntermediateSize, q = (long)m.NumAttentionHeads * m.HeadDim;
        long InFeatures(string projection) => projection switch { "o_proj" => q, "down_proj" => I, _ => H };
        var targets = LoraSettings.AllProjections.Where(lora.Targets).ToList();
        long d = lora.InModelDtype ? dtypeBytes : 4;                                     // the adapter's compute dtype
        long outputs = targets.Count * lora.Rank * d;
        if (lora.Dropout > 0) return targets.Sum(p => (d + 1) * InFeatures(p)) + outputs;
        if (dtypeBytes != d) return targets.Sum(p => d * InFeatures(p)) + outputs;       // each casts its own copy
        var distinct = targets.Select(p => p switch { "k_proj" or "v_proj" => "q_proj", "up_proj" => "gate_proj", _ => p }).Distinct();
        return distinct.Sum(p => d * InFeatures(p)) + outputs;                           // shared inputs kept once
    }

    /// <summary>
    /// Gradients alive at once during backward, beyond the kept activations, per token: about one layer's worth of
    /// float32 gradients, (I + 2·H) × 4; with checkpointing, while a layer is recomputed next to them, (3·I + 2·H) × 4.
    /// Measured on the CPU with scripts/activation-memory.cs (peak during backward minus what the forward kept).
    /// </summary>
    public static long BackwardBytesPerToken(IDecoderConfig m, bool checkpointing) =>
        ((checkpointing ? 3 : 1) * (long)m.IntermediateSize + 2L * m.HiddenSize) * 4;

    public static long Parameters(ModelFamily family) => family.ParameterCount();

    public static long LoraParameters(ModelFamily family, LoraSettings lora) => family.LoraParameterCount(lora);

    public string Table()
    {
        static string G(long bytes) => $"{bytes / (double)(1L << 30),10:F2} GiB";
        string chosen(bool ckpt, bool cache) => Checkpointing == ckpt && (MicroBatch is not null) == cache ? "  <- this config" : "";
        return string.Join(Environment.NewLine,
            $"dry run: {ReplicaCount} device(s) [{Devices}]; per device {RowsPerDevice} rows = {SequencesPerDevice} sequences ({SequencesPerDevice / Math.Max(RowsPerDevice, 1) - 2} negative(s) per row); {TokensPerForward:N0} tokens per forward",
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
