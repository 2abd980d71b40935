namespace Trainer.Text.TokenizerJson;

/// <summary>One step of the <c>pre_tokenizer</c> stage: splits each piece of text into smaller pieces.</summary>
public interface IPreTokenizer
{
    /// <summary>Appends the pieces <paramref name="piece"/> splits into, in order.</summary>
    void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output);

    /// <summary>
    /// True when any piece cut between a letter and <paramref name="next"/> (a character that is not a letter) splits into
    /// the pieces of its part before the cut followed by those of its part after it (<see cref="TextCuts"/>).
    /// </summary>
    bool KeepsCutBefore(char next);
}
