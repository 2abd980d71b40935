using System.Globalization;
using System.Text.RegularExpressions;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// Any other split pattern, run by .NET's Regex with code-point semantics: a text holding characters outside the Basic
/// Multilingual Plane is matched as a stand-in string in which each such character (a surrogate pair, which .NET's
/// <c>\p{L}</c> or <c>\p{N}</c> would not match) is replaced by one BMP character of the same Unicode category; the
/// match offsets are then mapped back. This keeps the category classes right (𝒜 is a letter, 𝟏 a number) for any
/// pattern that names characters by category, \s, \w or ASCII literals, as the tokenizers' patterns do. Slower than
/// <see cref="GptSplitScanner"/>, which serves the two known patterns.
/// </summary>
public sealed class CodePointRegex : IPatternMatcher
{
    private static readonly char[] StandIns = BuildStandIns();
    private readonly Regex _regex;

    /// <param name="regex">The pattern.</param>
    /// <param name="lettersEndMatches">
    /// Whether the pattern is known to keep a cut after a letter (<see cref="IPatternMatcher.LettersEndMatches"/>):
    /// GPT-2's, where a letter is matched by <c> ?\p{L}+</c> or ends a contraction and nothing looks behind.
    /// </param>
    public CodePointRegex(Regex regex, bool lettersEndMatches = false)
    {
        _regex = regex;
        LettersEndMatches = lettersEndMatches;
    }

    public bool LettersEndMatches { get; }

    public void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        int firstPair = IndexOfSurrogatePair(text);
        if (firstPair < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text)) matches.Add((m.Index, m.Index + m.Length));
            return;
        }

        var mapped = new char[text.Length];
        var offsets = new int[text.Length + 1]; // stand-in index → text index
        int k = 0;
        for (int i = 0; i < text.Length; k++)
        {
            offsets[k] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                mapped[k] = StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))];
                i += 2;
            }
            else
            {
                mapped[k] = text[i++];
            }
        }
        offsets[k] = text.Length;
        foreach (var m in _regex.EnumerateMatches(mapped.AsSpan(0, k))) matches.Add((offsets[m.Index], offsets[m.Index + m.Length]));
    }

    private static int IndexOfSurrogatePair(ReadOnlySpan<char> text)
    {
        for (int i = 0; i + 1 < text.Length; i++)
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1])) return i;
        return -1;
    }

    /// <summary>For each category, a BMP character of that category beyond ASCII and Latin-1 (no pattern names them).</summary>
    private static char[] BuildStandIns()
    {
        var standIns = new char[32];
        var found = new bool[32];
        for (int c = 0x0370; c < 0xFFFE; c++)
        {
            if (char.IsSurrogate((char)c) || char.IsWhiteSpace((char)c)) continue;
            int category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (found[category]) continue;
            standIns[category] = (char)c;
            found[category] = true;
        }
        for (int i = 0; i < standIns.Length; i++)
            if (!found[i]) standIns[i] = '\uFFFD';
        return standIns;
    }
}
