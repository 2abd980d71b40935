using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// The <c>post_processor</c> stage for one text: the special-token ids it puts before and after the text's ids when
/// special tokens are asked for. ByteLevel adds none (it only trims offsets); TemplateProcessing adds what its
/// <c>single</c> template lists around <c>$A</c> (Llama 3.1/3.2: &lt;|begin_of_text|&gt; before); RobertaProcessing and
/// BertProcessing add cls before and sep after; a Sequence applies each in order, a later one around the earlier ones.
/// </summary>
public sealed record SpecialTokenTemplate(int[] Prefix, int[] Suffix)
{
    public static SpecialTokenTemplate None { get; } = new([], []);

    public static SpecialTokenTemplate Read(TokenizerJsonReader file, JsonElement? postProcessor) =>
        postProcessor is JsonElement p ? Read(file, p, "post_processor") : None;

    private static SpecialTokenTemplate Read(TokenizerJsonReader file, JsonElement p, string key)
    {
        string type = file.String(p, "type", key + ".type");
        switch (type)
        {
            case "ByteLevel":
                return None;
            case "Sequence":
                {
                    var result = None;
                    int i = 0;
                    foreach (var step in file.Array(p, "processors", key + ".processors").EnumerateArray())
                    {
                        var inner = Read(file, step, $"{key}.processors[{i++}]");
                        result = new SpecialTokenTemplate([.. inner.Prefix, .. result.Prefix], [.. result.Suffix, .. inner.Suffix]);
                    }
                    return result;
                }
            case "TemplateProcessing":
                return Template(file, p, key);
            case "RobertaProcessing" or "BertProcessing":
                return new SpecialTokenTemplate([TokenId(file, p, "cls", key)], [TokenId(file, p, "sep", key)]);
            default:
                throw file.Unsupported(key + ".type", $"is '{type}', a post-processor this reader does not implement");
        }
    }

    private static SpecialTokenTemplate Template(TokenizerJsonReader file, JsonElement p, string key)
    {
        var specials = file.Object(p, "special_tokens", key + ".special_tokens");
        List<int> prefix = [], suffix = [];
        bool seenA = false;
        int i = 0;
        foreach (var piece in file.Array(p, "single", key + ".single").EnumerateArray())
        {
            string pieceKey = $"{key}.single[{i++}]";
            if (TokenizerJsonReader.Optional(piece, "Sequence") is JsonElement sequence)
            {
                string id = file.String(sequence, "id", pieceKey + ".Sequence.id");
                if (id != "A") throw file.Unsupported(pieceKey + ".Sequence.id", $"is '{id}'; a single text is sequence A");
                seenA = true;
            }
            else if (TokenizerJsonReader.Optional(piece, "SpecialToken") is JsonElement special)
            {
                string name = file.String(special, "id", pieceKey + ".SpecialToken.id");
                if (TokenizerJsonReader.Optional(specials, name) is not JsonElement entry)
                    throw file.Error(pieceKey + ".SpecialToken.id", $"names '{name}', which {key}.special_tokens does not define");
                int j = 0;
                foreach (var id in file.Array(entry, "ids", $"{key}.special_tokens[\"{name}\"].ids").EnumerateArray())
                {
                    if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int value) || value < 0)
                        throw file.Error($"{key}.special_tokens[\"{name}\"].ids[{j}]", "is not a non-negative integer id");
                    (seenA ? suffix : prefix).Add(value);
                    j++;
                }
            }
            else
            {
                throw file.Error(pieceKey, "is neither a Sequence nor a SpecialToken");
            }
        }
        if (!seenA) throw file.Error(key + ".single", "has no Sequence A, so the text's own ids would be dropped");
        return new SpecialTokenTemplate(prefix.ToArray(), suffix.ToArray());
    }

    private static int TokenId(TokenizerJsonReader file, JsonElement p, string name, string key)
    {
        var pair = file.Array(p, name, $"{key}.{name}");
        if (pair.GetArrayLength() != 2 || pair[1].ValueKind != JsonValueKind.Number || !pair[1].TryGetInt32(out int id) || id < 0)
            throw file.Error($"{key}.{name}", "is not [token, id]");
        return id;
    }
}
