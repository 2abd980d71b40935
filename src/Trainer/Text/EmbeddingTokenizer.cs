using Trainer.Models;

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

    /// <summary>
    /// Loads the tokenizer and checks that every id it can produce (its pieces, BOS and EOS) is a row of the model's
    /// embedding table. A tokenizer smaller than vocab_size is fine (Hugging Face models often pad the vocabulary).
    /// </summary>
    public static EmbeddingTokenizer Load(string modelDir, IDecoderConfig config)
    {
        var tokenizer = Load(modelDir);
        string tokenizerPath = Path.Combine(modelDir, ModelFile), configPath = Path.Combine(modelDir, PretrainedLoader.ConfigFile);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"{tokenizerPath} has {tokenizer.VocabSize} pieces but {configPath} has vocab_size = {config.VocabSize}; " +
                                           "the tokenizer must not produce ids the model has no embedding for.");
        foreach (var (name, id) in new[] { ("BOS", tokenizer.Bpe.BosId), ("EOS", tokenizer.EosId) })
            if (id < 0 || id >= config.VocabSize)
                throw new InvalidDataException($"{tokenizerPath} has {name} id {id}, outside [0, {config.VocabSize}) of vocab_size in {configPath}.");
        return tokenizer;
    }

    public int[] Encode(string text, string? instruction, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2 (BOS and EOS).");
        var ids = Bpe.Encode(PromptFormat.Format(text, instruction), addBos: true, maxIds: maxLength - 1); // reads only a prefix of a long text
        ids.Add(EosId);
        return ids.ToArray();
    }
}
