namespace Trainer.Text.TokenizerJson;

/// <summary>Finds the non-overlapping matches of a Split pre-tokenizer's pattern, left to right.</summary>
public interface IPatternMatcher
{
    /// <summary>Appends (start, end) of each match in <paramref name="text"/>, in order.</summary>
    void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> matches);

    /// <summary>
    /// True when every match that holds a letter ends at the first character after it that is not a letter (or after a
    /// contraction's last letter), and where a match ends never depends on the text before it: then a text cut between a
    /// letter and a character that is not one matches as its two halves do, one after the other. False when unknown.
    /// </summary>
    bool LettersEndMatches { get; }
}
