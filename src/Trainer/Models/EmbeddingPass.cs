using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// The one way rows of token ids become embeddings: right-pad them into a batch, run the model, pool each row's last
/// real token (<see cref="LastTokenPooling"/>). Training (with a graph), inference (<see cref="InferenceScope"/>) and
/// the export's verification all go through it, so they cannot drift apart.
/// </summary>
public static class EmbeddingPass
{
    /// <summary>
    /// The id written into pad positions: the model's EOS id. Pads are hidden from every real token by the attention
    /// mask and never pooled, so any id of the vocabulary gives the same embeddings (and the same hidden states on real
    /// tokens). One id is fixed so every path feeds the model the same batch; EOS because config.json guarantees it is
    /// a row of the embedding table, while Mistral's tokenizer defines no pad token at all.
    /// </summary>
    public static int PadId(EmbeddingDecoder model) => model.Family.Config.EosTokenId;

    /// <summary>Rows of ids → a right-padded batch on the model's device, padded with <see cref="PadId"/>.</summary>
    public static PaddedBatch Pad(EmbeddingDecoder model, IReadOnlyList<int[]> rows)
    {
        using var scope = NewDisposeScope(); // the host-side staging tensors die here; the batch's own are outside any scope
        return PaddedBatch.Create(rows, PadId(model), model.Device);
    }

    /// <summary>batch → hidden states [B, S, H] and embeddings [B, H] (float32, unit norm).</summary>
    public static (Tensor Hidden, Tensor Embeddings) Forward(EmbeddingDecoder model, PaddedBatch batch)
    {
        var hidden = model.call(batch.InputIds, batch.AttentionMask);
        return (hidden, LastTokenPooling.Pool(hidden, batch.AttentionMask));
    }

    /// <summary>
    /// Rows of ids → embeddings [B, H] (float32, unit norm), with a graph when grad is enabled. <paramref name="padded"/>,
    /// if given, is called once the padded batch is on the device (a step timer's boundary).
    /// </summary>
    public static Tensor Embed(EmbeddingDecoder model, IReadOnlyList<int[]> rows, Action? padded = null)
    {
        using var batch = Pad(model, rows);
        padded?.Invoke();
        using var scope = NewDisposeScope();
        return Forward(model, batch).Embeddings.MoveToOuterDisposeScope();
    }

    /// <summary>Rows of ids → the pooled last hidden states [B, H] (float32), not normalised: e5's features for classification.</summary>
    public static Tensor EmbedUnnormalized(EmbeddingDecoder model, IReadOnlyList<int[]> rows)
    {
        using var batch = Pad(model, rows);
        using var scope = NewDisposeScope();
        var hidden = model.call(batch.InputIds, batch.AttentionMask);
        return LastTokenPooling.Gather(hidden, batch.AttentionMask).MoveToOuterDisposeScope();
    }
}
