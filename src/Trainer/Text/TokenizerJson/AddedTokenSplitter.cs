using System.Globalization;
using System.Text;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// Finds added tokens in a text, as the tokenizers library's added vocabulary does before any other stage: the
/// leftmost, then longest, token text; a match consumed is not searched again. A special token's text written in a user's
/// text therefore becomes that token (Hugging Face's default). single_word drops a match that touches a word character
/// (\w) on either side; lstrip and rstrip take the whitespace before and after into the token. Tokens with
/// normalized = false are searched in the raw text, those with normalized = true in each normalized remainder (their text
/// normalized the same way).
/// </summary>
public sealed class AddedTokenSplitter
{
    /// <summary>A piece of the text: an added token (<see cref="Id"/> ≥ 0) or text to tokenize (Id −1).</summary>
    public readonly record struct Segment(int Id, int Start, int Length);

    private readonly Dictionary<char, (string Text, AddedToken Token)[]> _byFirstChar; // longest first
    private readonly bool[] _mayStart = new bool[char.MaxValue + 1];

    public AddedTokenSplitter(IEnumerable<(string Text, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Text.Length > 0).GroupBy(t => t.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ToArray());
        foreach (var c in _byFirstChar.Keys) _mayStart[c] = true;
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Appends the segments of <paramref name="text"/>; they cover it end to end.</summary>
    public void Split(string text, List<Segment> segments)
    {
        int offset = 0, i = 0;
        while (i < text.Length)
        {
            if (!_mayStart[text[i]] || Longest(text, i) is not var (content, token))
            {
                i++;
                continue;
            }
            int start = i, stop = i + content.Length;
            i = stop;
            if (token.SingleWord && (start > 0 && IsWordChar(text, start, before: true) || stop < text.Length && IsWordChar(text, stop, before: false)))
                continue;
            if (token.LStrip)
            {
                int s = start;
                while (s > 0 && IsWhiteSpaceBefore(text, s, out int width)) s -= width;
                start = Math.Max(s, offset);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && Rune.TryGetRuneAt(text, stop, out var r) && Rune.IsWhiteSpace(r)) stop += r.Utf16SequenceLength;
                i = stop;
            }
            if (start > offset) segments.Add(new Segment(-1, offset, start - offset));
            segments.Add(new Segment(token.Id, start, stop - start));
            offset = stop;
        }
        if (offset < text.Length) segments.Add(new Segment(-1, offset, text.Length - offset));
    }

    private (string, AddedToken)? Longest(string text, int at)
    {
        foreach (var (content, token) in _byFirstChar[text[at]])
            if (at + content.Length <= text.Length && text.AsSpan(at, content.Length).SequenceEqual(content)) return (content, token);
        return null;
    }

    private static bool IsWhiteSpaceBefore(string text, int end, out int width)
    {
        width = end >= 2 && char.IsSurrogatePair(text[end - 2], text[end - 1]) ? 2 : 1;
        return Rune.TryGetRuneAt(text, end - width, out var r) && Rune.IsWhiteSpace(r);
    }

    private static bool IsWordChar(string text, int at, bool before)
    {
        int i = before ? at - (at >= 2 && char.IsSurrogatePair(text[at - 2], text[at - 1]) ? 2 : 1) : at;
        return Rune.TryGetRuneAt(text, i, out var r) && IsWordRune(r);
    }

    /// <summary>Rust regex's \w: letters, marks, decimal digits, connector punctuation and the joiners.</summary>
    public static bool IsWordRune(Rune r)
    {
        if (r.Value is 0x200C or 0x200D) return true;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
                or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.LetterNumber => true,
            _ => false,
        };
    }
}
