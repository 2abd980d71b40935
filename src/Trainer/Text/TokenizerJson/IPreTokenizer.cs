namespace Trainer.Text.TokenizerJson;

/// <summary>One step of the <c>pre_tokenizer</c> stage: splits each piece of text into smaller pieces.</summary>
public interface IPreTokenizer
{
    /// <summary>Appends the pieces <paramref name="piece"/> splits into, in order.</summary>
    void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output);
}
