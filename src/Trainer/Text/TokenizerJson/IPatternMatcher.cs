namespace Trainer.Text.TokenizerJson;

/// <summary>Finds the non-overlapping matches of a Split pre-tokenizer's pattern, left to right.</summary>
public interface IPatternMatcher
{
    /// <summary>Appends (start, end) of each match in <paramref name="text"/>, in order.</summary>
    void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> matches);
}
