namespace Trainer.Benchmarks;

/// <summary>
/// The module kinds whose forward <see cref="StepBreakdown"/> times, outermost first. Each is inclusive: a decoder
/// layer's time holds its norms, attention and MLP, and attention's and the MLP's times hold their projections.
/// </summary>
public enum ModuleKind
{
    /// <summary>The decoder's own forward (<see cref="Models.EmbeddingDecoder"/>): embedding, layers, final norm.</summary>
    Model,

    /// <summary><c>embed_tokens</c>.</summary>
    Embedding,

    /// <summary>Each <c>layers.N</c> (<see cref="Models.Mistral.MistralDecoderLayer"/>).</summary>
    Layer,

    /// <summary>A layer's <c>input_layernorm</c> and <c>post_attention_layernorm</c>.</summary>
    LayerNorm,

    /// <summary>A layer's <c>self_attn</c> (<see cref="Models.Mistral.MistralAttention"/>).</summary>
    Attention,

    /// <summary>Attention's q, k, v and o projections (a <see cref="Models.Lora.LoraLinear"/> holds its base matmul).</summary>
    AttentionProjection,

    /// <summary>A layer's <c>mlp</c> (<see cref="Models.Mistral.MistralMlp"/>).</summary>
    Mlp,

    /// <summary>The MLP's gate, up and down projections.</summary>
    MlpProjection,

    /// <summary>The final <c>norm</c>.</summary>
    FinalNorm,
}
