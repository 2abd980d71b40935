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
