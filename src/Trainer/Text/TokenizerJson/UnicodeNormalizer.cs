using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// The <c>normalizer</c> stage: none (Llama 3), a Unicode normalization form (NFC for Qwen; NFD, NFKC, NFKD), or a
/// Sequence of them applied in order. .NET's <see cref="string.Normalize(NormalizationForm)"/> stands in for the
/// unicode-normalization crate; both follow the Unicode standard's algorithm. Other normalizers (lowercasing, replacing,
/// stripping) are refused: the byte-level BPE tokenizers this reader is for do not use them.
/// </summary>
public sealed class UnicodeNormalizer
{
    private readonly NormalizationForm[] _forms;
    private readonly byte[] _inert = new byte[char.MaxValue + 1]; // per character: 0 not yet known, 1 inert, 2 not

    private UnicodeNormalizer(NormalizationForm[] forms) => _forms = forms;

    public static UnicodeNormalizer None { get; } = new([]);

    public static UnicodeNormalizer Read(TokenizerJsonReader file, JsonElement? normalizer)
    {
        var forms = new List<NormalizationForm>();
        if (normalizer is JsonElement n) Add(file, n, "normalizer", forms);
        return forms.Count == 0 ? None : new UnicodeNormalizer(forms.ToArray());
    }

    public string Normalize(string text)
    {
        foreach (var form in _forms)
            if (!text.IsNormalized(form)) text = text.Normalize(form);
        return text;
    }

    /// <summary>
    /// True when normalizing text[..c] and text[c..] apart gives the normalization of the whole text, with
    /// <paramref name="before"/> and <paramref name="after"/> still on either side of the cut, for any text whose characters
    /// at c − 1 and c they are. Without a normalizer that is any cut; with one, a cut between two inert characters
    /// (<see cref="IsInert"/>). Normalization (decomposition, reordering of combining marks, composition) only ever joins a
    /// starter with the marks or jamo after it, so it cannot reach across such a cut.
    /// </summary>
    public bool KeepsCut(char before, char after) => _forms.Length == 0 || IsInert(before) && IsInert(after);

    /// <summary>
    /// A character each of this normalizer's forms leaves as it is, that is no combining mark (so its canonical combining
    /// class is 0: no reordering moves anything across it) and no conjoining Hangul jamo: marks and those jamo are the only
    /// characters a canonical composition takes as its second part, so an inert character never joins what is before it.
    /// ASCII is inert in every form.
    /// </summary>
    public bool IsInert(char c)
    {
        if (c < 0x80) return true;
        byte known = _inert[c];
        if (known == 0) _inert[c] = known = FindInert(c) ? (byte)1 : (byte)2; // a race writes the same value
        return known == 1;
    }

    private bool FindInert(char c)
    {
        if (char.IsSurrogate(c) || IsConjoiningJamo(c)) return false;
        if (CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            return false;
        string s = c.ToString();
        try
        {
            return _forms.All(form => s.IsNormalized(form));
        }
        catch (ArgumentException)
        {
            return false; // a code point the runtime's normalization refuses
        }
    }

    /// <summary>The Hangul Jamo blocks (U+1100–11FF, U+A960–A97F, U+D7B0–D7FF), whose vowels and finals compose with what precedes them.</summary>
    public static bool IsConjoiningJamo(char c) => c is >= '\u1100' and <= '\u11FF' or >= '\uA960' and <= '\uA97F' or >= '\uD7B0' and <= '\uD7FF';

    private static void Add(TokenizerJsonReader file, JsonElement n, string key, List<NormalizationForm> forms)
    {
        string type = file.String(n, "type", key + ".type");
        switch (type)
        {
            case "NFC": forms.Add(NormalizationForm.FormC); break;
            case "NFD": forms.Add(NormalizationForm.FormD); break;
            case "NFKC": forms.Add(NormalizationForm.FormKC); break;
            case "NFKD": forms.Add(NormalizationForm.FormKD); break;
            case "Sequence":
                int i = 0;
                foreach (var step in file.Array(n, "normalizers", key + ".normalizers").EnumerateArray())
                {
                    Add(file, step, $"{key}.normalizers[{i}]", forms);
                    i++;
                }
                break;
            default:
                throw file.Unsupported(key + ".type", $"is '{type}', a normalizer this reader does not implement (NFC, NFD, NFKC, NFKD or a Sequence of them)");
        }
    }
}
