using System.Globalization;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// A hand-written matcher, by code point, for the two split patterns of Qwen2/2.5/3 and Llama 3:
/// <code>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</code>
/// (Llama 3: <c>\p{N}{1,3}</c>). It exists because .NET's Regex reads UTF-16 units: <c>\p{L}</c> never matches a letter
/// outside the Basic Multilingual Plane (a surrogate pair, e.g. 𠀀 or 𝒜), so " 𠀀abc" would split unlike the tokenizers
/// library (Oniguruma, which reads code points). Each alternative is decided here as Oniguruma's leftmost-first
/// backtracking would: for example <c>\s+(?!\S)</c> gives a run of whitespace less its last character when a
/// non-space follows, and <c>\s*[\r\n]+</c> ends at the run's last line break. \s is Unicode White_Space (as
/// <see cref="char.IsWhiteSpace(char)"/>), \p{L} and \p{N} the letter and number categories. It is also about three
/// times faster than a compiled Regex. Any other pattern goes to <see cref="CodePointRegex"/>.
/// </summary>
public sealed class GptSplitScanner : IPatternMatcher
{
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const byte Other = 0, Letter = 1, Number = 2, Space = 3, LineBreak = 4; // LineBreak (\r, \n) is also \s
    private static readonly byte[] BmpClasses = BuildClasses();

    private readonly int _maxDigits;

    private GptSplitScanner(int maxDigits) => _maxDigits = maxDigits;

    /// <summary>The scanner for <paramref name="pattern"/>, or null when it is neither known pattern.</summary>
    public static GptSplitScanner? For(string pattern) => pattern switch
    {
        QwenPattern => new GptSplitScanner(1),
        Llama3Pattern => new GptSplitScanner(3),
        _ => null,
    };

    /// <summary>
    /// True: a letter is matched by <c>\p{L}+</c> (alone or after one character), which ends at the first character that
    /// is not a letter, or is a contraction's last letter; <see cref="MatchAt"/> reads only the text from where it starts.
    /// </summary>
    public bool LettersEndMatches => true;

    public void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        for (int i = 0; i < text.Length;)
        {
            int end = MatchAt(text, i);
            matches.Add((i, end));
            i = end;
        }
    }

    private int MatchAt(ReadOnlySpan<char> s, int i)
    {
        int n = s.Length;
        char c = s[i];
        if (c == '\'' && i + 1 < n && Contraction(s, i + 1) is int length and > 0) return i + 1 + length; // (?i:'s|'t|...)

        byte cls = ClassAt(s, i, out int width);
        if (cls == Letter) return Letters(s, i + width);                                   // \p{L}+
        if (cls is Other or Space && i + width < n && ClassAt(s, i + width, out int w2) == Letter)
            return Letters(s, i + width + w2);                                                // [^\r\n\p{L}\p{N}]\p{L}+
        if (cls == Number)                                                                  // \p{N} or \p{N}{1,3}
        {
            int j = i + width;
            for (int k = 1; k < _maxDigits && j < n && ClassAt(s, j, out int w) == Number; k++) j += w;
            return j;
        }
        int start = c == ' ' && i + 1 < n && ClassAt(s, i + 1, out _) == Other ? i + 1 : i; // ' ?'
        if (ClassAt(s, start, out int ow) == Other)                                          // [^\s\p{L}\p{N}]+[\r\n]*
        {
            int j = start + ow;
            while (j < n && ClassAt(s, j, out int w) == Other) j += w;
            while (j < n && s[j] is '\r' or '\n') j++;
            return j;
        }

        int runEnd = i, lastBreak = -1;                                                     // c is whitespace
        while (runEnd < n && BmpClasses[s[runEnd]] is Space or LineBreak)
        {
            if (s[runEnd] is '\r' or '\n') lastBreak = runEnd;
            runEnd++;
        }
        if (lastBreak >= 0) return lastBreak + 1;                                           // \s*[\r\n]+
        if (runEnd == n || runEnd - i == 1) return runEnd;                                  // \s+(?!\S) at the end, or \s+
        return runEnd - 1;                                                                  // \s+(?!\S): the last space goes with what follows
    }

    private static int Contraction(ReadOnlySpan<char> s, int at)
    {
        char a = char.ToLowerInvariant(s[at]);
        char b = at + 1 < s.Length ? char.ToLowerInvariant(s[at + 1]) : '\0';
        return a switch
        {
            's' or 't' or 'm' or 'd' => 1,
            'r' when b == 'e' => 2,
            'v' when b == 'e' => 2,
            'l' when b == 'l' => 2,
            _ => 0,
        };
    }

    private static int Letters(ReadOnlySpan<char> s, int j)
    {
        while (j < s.Length && ClassAt(s, j, out int w) == Letter) j += w;
        return j;
    }

    private static byte ClassAt(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return Classify(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, s[i + 1])), isWhiteSpace: false);
        }
        width = 1;
        return BmpClasses[c];
    }

    private static byte Classify(UnicodeCategory category, bool isWhiteSpace) => isWhiteSpace ? Space : category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
        _ => Other,
    };

    private static byte[] BuildClasses()
    {
        var classes = new byte[char.MaxValue + 1];
        for (int c = 0; c <= char.MaxValue; c++)
            classes[c] = c is '\r' or '\n' ? LineBreak : Classify(CharUnicodeInfo.GetUnicodeCategory((char)c), char.IsWhiteSpace((char)c));
        return classes;
    }
}
