namespace Trainer.Text;

/// <summary>
/// Turns a text (and optional instruction) into the ids the embedding model reads: BOS + SentencePiece ids of the
/// formatted prompt, truncated to max_length − 1, then EOS. The EOS position is the one pooled. A literal
/// "&lt;/s&gt;" in the text is text, never the EOS token.
/// </summary>
public sealed class EmbeddingTokenizer
{
    public const string ModelFile = "tokenizer.model";

    public EmbeddingTokenizer(SentencePieceBpe bpe) => Bpe = bpe;

    public SentencePieceBpe Bpe { get; }

    public int EosId => Bpe.EosId;

    public int VocabSize => Bpe.VocabSize;

    public static EmbeddingTokenizer Load(string modelDir) => new(SentencePieceBpe.Load(Path.Combine(modelDir, ModelFile)));

    public int[] Encode(string text, string? instruction, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2 (BOS and EOS).");
        var ids = Bpe.Encode(PromptFormat.Format(text, instruction), addBos: true, maxIds: maxLength - 1); // reads only a prefix of a long text
        ids.Add(EosId);
        return ids.ToArray();
    }
}
