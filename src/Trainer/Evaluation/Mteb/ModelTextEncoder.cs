using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// <see cref="ITextEncoder"/> over a model: each text tokenized with the instruction by
/// <see cref="EmbeddingTokenizer.Encode"/> (the query template, e5's <c>Instruct: {instruction}\nQuery: {text}</c> by
/// default, exactly as e5's <c>get_detailed_instruct</c> writes it), cut to max_length, embedded by
/// <see cref="TextEmbedder"/> (eval mode, no graph; a model in training comes back as it was).
/// </summary>
public sealed class ModelTextEncoder(EmbeddingDecoder model, EmbeddingTokenizer tokenizer, int maxLength, int batchSize) : ITextEncoder
{
    public int Texts { get; private set; }

    public float[][] Encode(IReadOnlyList<string> texts, string? instruction, bool normalize)
    {
        Texts += texts.Count;
        var rows = texts.Select(t => tokenizer.Encode(t, instruction, maxLength)).ToList();
        return new TextEmbedder(model, batchSize).Embed(rows, normalize: normalize);
    }
}
