namespace Trainer.Models;

/// <summary>
/// The family-neutral facts of a decoder's <c>config.json</c> that code above the model reads: vocabulary and
/// special ids (tokenizer bounds, padding, the export's serving config) and the dimensions a memory estimate needs.
/// Each family's config record (<see cref="Mistral.MistralConfig"/>) implements it with the HF keys' values.
/// </summary>
public interface IDecoderConfig
{
    string ModelType { get; }

    int VocabSize { get; }

    int HiddenSize { get; }

    int IntermediateSize { get; }

    int NumHiddenLayers { get; }

    int NumAttentionHeads { get; }

    int NumKeyValueHeads { get; }

    int HeadDim { get; }

    /// <summary>Keys further back than this are hidden from a query; null = full causal attention.</summary>
    int? SlidingWindow { get; }

    /// <summary>RoPE's base θ (<c>rope_theta</c>).</summary>
    double RopeTheta { get; }

    /// <summary>The longest sequence the model was built for; RoPE's tables are computed for any length, so longer inputs run (and extrapolate).</summary>
    int MaxPositionEmbeddings { get; }

    /// <summary>config.json's bos_token_id; null where the model has none (Hugging Face allows null).</summary>
    int? BosTokenId { get; }

    int EosTokenId { get; }
}
