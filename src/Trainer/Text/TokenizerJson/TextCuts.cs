using System.Text;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// Where a text may be cut so that its ids are those of the part before the cut followed by those of the part after it,
/// which lets <see cref="ByteLevelBpeTokenizer"/> encode a long text with a max length chunk by chunk and stop reading once
/// the row is full. A cut at c (between text[c − 1] and text[c]) is taken only when each stage keeps it:
/// <list type="bullet">
/// <item>the pre-tokenizer: text[c − 1] is a letter and text[c] is not, so that the first pre-tokenizer's pieces end at
/// c and none of those before c looks past it (<see cref="IPreTokenizer.KeepsCutBefore"/>: Qwen's, Llama 3's and GPT-2's
/// patterns; before a space only when a ByteLevel step first adds a prefix space). The later steps split those same
/// pieces, and BPE merges each piece alone;</item>
/// <item>the normalizer: both characters are inert (<see cref="UnicodeNormalizer.KeepsCut"/>), so the normalized halves
/// join into the normalized text, with the same two characters at the cut;</item>
/// <item>the added tokens: no token's text (as written or normalized) holds text[c], so no token found in the text
/// covers the cut or starts at it; and when a token strips the whitespace after it (rstrip) or must stand alone
/// (single_word), text[c] is neither whitespace nor a word character, so a token ending at the cut is found alike
/// whether or not the text goes on.</item>
/// </list>
/// A whitespace run's split by <c>\s+(?!\S)</c> depends on the character after it; no cut falls inside or at the end of
/// one (text[c − 1] is a letter). A text with no such position (a run of emoji, a pattern other than the three) is
/// encoded whole.
/// </summary>
public sealed class TextCuts
{
    private readonly UnicodeNormalizer _normalizer;
    private readonly IPreTokenizer? _first;
    private readonly bool[] _inAddedToken = new bool[char.MaxValue + 1];
    private readonly bool _flagged;

    /// <param name="normalizer">The tokenizer's normalizer.</param>
    /// <param name="preTokenizers">Its pre-tokenizer steps, in order; none means each text is one piece, never cut.</param>
    /// <param name="addedTokens">Its added tokens.</param>
    public TextCuts(UnicodeNormalizer normalizer, IReadOnlyList<IPreTokenizer> preTokenizers, IEnumerable<AddedToken> addedTokens)
    {
        _normalizer = normalizer;
        _first = preTokenizers.Count > 0 ? preTokenizers[0] : null;
        foreach (var token in addedTokens)
        {
            foreach (var c in token.Content) _inAddedToken[c] = true;
            foreach (var c in normalizer.Normalize(token.Content)) _inAddedToken[c] = true;
            _flagged |= token.RStrip || token.SingleWord;
        }
    }

    /// <summary>Whether the text may be cut at <paramref name="c"/> (0 &lt; c &lt; its length).</summary>
    public bool IsCut(string text, int c)
    {
        char before = text[c - 1], after = text[c];
        return _first is not null && char.IsLetter(before) && !char.IsLetter(after) && !char.IsSurrogate(before) && !char.IsSurrogate(after)
            && !_inAddedToken[after] && (!_flagged || !char.IsWhiteSpace(after) && !AddedTokenSplitter.IsWordRune(new Rune(after)))
            && _normalizer.KeepsCut(before, after) && _first.KeepsCutBefore(after);
    }

    /// <summary>The first cut at or after <paramref name="from"/>, or the text's length when there is none.</summary>
    public int Next(string text, int from)
    {
        if (_first is null) return text.Length;
        for (int c = Math.Max(from, 1); c < text.Length; c++)
            if (IsCut(text, c)) return c;
        return text.Length;
    }
}
