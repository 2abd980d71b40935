using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Text;
using Trainer.Text.TokenizerJson;

namespace Trainer.Export;

/// <summary>
/// The Hugging Face tokenizer files of an export. A byte-level BPE model's are copied (<see cref="Copy"/>); a
/// SentencePiece model's are made from its <c>tokenizer.model</c> (<see cref="Write"/>):
/// <c>tokenizer.json</c> (see <see cref="HfTokenizerJson"/>), <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>. Together they give <see cref="EmbeddingTokenizer"/>'s ids (BOS, text, EOS; the text
/// cut so that BOS and EOS stay) in transformers, sentence-transformers, text-embeddings-inference and, without
/// truncation, transformers.js. transformers.js truncates after adding BOS and EOS and so drops the EOS of a long text
/// whatever these files say; docs/tokenizer.md gives the call that keeps it.
/// </summary>
public static class TokenizerFiles
{
    public const string TokenizerJsonFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A byte-level BPE model's files (<c>tokenizer.json</c> and, when present, <c>tokenizer_config.json</c> and
    /// <c>special_tokens_map.json</c>) copied into <paramref name="outputDir"/> as they are, except one thing: when the
    /// post-processor appends other tokens than <paramref name="tokenizer"/> does (nothing, as a Qwen base's; or not the
    /// <c>model.pool_token</c>), it is replaced by a <c>TemplateProcessing</c> that puts the tokenizer's prefix before and
    /// its suffix after, so that every stack reading the file appends and pools the token <c>trainer embed</c> pools.
    /// </summary>
    public static void Copy(string modelDir, string outputDir, EmbeddingTokenizer tokenizer)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(modelDir, TokenizerJsonFile)))!.AsObject();
        var bpe = tokenizer.ByteLevel;
        if (!bpe.Template.Suffix.SequenceEqual(tokenizer.SuffixIds))
        {
            var names = bpe.AddedTokens.ToDictionary(t => t.Id, t => t.Content);
            string Name(int id) => names.TryGetValue(id, out var name) ? name
                : throw new InvalidDataException($"{Path.Combine(modelDir, TokenizerJsonFile)}: token id {id} is not an added token, so a template cannot name it.");
            json["post_processor"] = Template([.. tokenizer.PrefixIds.Select(id => (Name(id), id))], [.. tokenizer.SuffixIds.Select(id => (Name(id), id))]);
        }
        WriteJson(Path.Combine(outputDir, TokenizerJsonFile), json);
        foreach (var file in new[] { TokenizerConfigFile, SpecialTokensMapFile })
        {
            var source = Path.Combine(modelDir, file);
            if (!File.Exists(source)) continue;
            File.Copy(source, Path.Combine(outputDir, file), overwrite: true);
            File.SetAttributes(Path.Combine(outputDir, file), FileAttributes.Normal);
        }
    }

    /// <summary>Hugging Face's TemplateProcessing: <paramref name="prefix"/> $A <paramref name="suffix"/> (a pair: $A then $B:1 between).</summary>
    private static JsonObject Template((string Name, int Id)[] prefix, (string Name, int Id)[] suffix)
    {
        static JsonObject Special(string name, int typeId) => new() { ["SpecialToken"] = new JsonObject { ["id"] = name, ["type_id"] = typeId } };
        static JsonObject Sequence(string id, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        var single = new JsonArray([.. prefix.Select(t => Special(t.Name, 0)), Sequence("A", 0), .. suffix.Select(t => Special(t.Name, 0))]);
        var pair = new JsonArray([.. prefix.Select(t => Special(t.Name, 0)), Sequence("A", 0), .. suffix.Select(t => Special(t.Name, 0)),
            Sequence("B", 1), .. suffix.Select(t => Special(t.Name, 1))]);
        var specials = new JsonObject();
        foreach (var (name, id) in prefix.Concat(suffix).DistinctBy(t => t.Id))
            specials[name] = new JsonObject { ["id"] = name, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(name) };
        return new JsonObject { ["type"] = "TemplateProcessing", ["single"] = single, ["pair"] = pair, ["special_tokens"] = specials };
    }

    /// <summary>Writes the three files into <paramref name="outputDir"/>, replacing earlier ones.</summary>
    public static void Write(string outputDir, string tokenizerModelPath, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2 (BOS and EOS).");
        var model = HfTokenizerJson.ReadModel(tokenizerModelPath);
        var tokenizer = HfTokenizerJson.Build(model, tokenizerModelPath, maxLength);
        string bos = model.Pieces[model.BosId].Text, eos = model.Pieces[model.EosId].Text, unk = model.Pieces[model.UnknownId].Text;

        WriteJson(Path.Combine(outputDir, TokenizerJsonFile), tokenizer);
        WriteJson(Path.Combine(outputDir, TokenizerConfigFile), Config(bos, eos, unk, maxLength));
        WriteJson(Path.Combine(outputDir, SpecialTokensMapFile), SpecialTokens(bos, eos, unk));
    }

    /// <summary>
    /// PreTrainedTokenizerFast makes transformers 5 (TokenizersBackend) and transformers.js (PreTrainedTokenizer) use
    /// tokenizer.json as it is; a model class such as LlamaTokenizer would rebuild the normalizer in transformers 5 and
    /// force left padding in transformers.js. add_bos_token and add_eos_token are given because transformers 5 rebuilds the
    /// post-processor from them when they are present: both true gives the same BOS … EOS template. The pad token is
    /// EOS, as e5-mistral's; with right padding the attention mask hides it. split_special_tokens keeps a literal
    /// "&lt;/s&gt;" in a text as text in transformers, which registers the special tokens as added tokens.
    /// </summary>
    private static JsonObject Config(string bos, string eos, string unk, int maxLength) => new()
    {
        ["tokenizer_class"] = "PreTrainedTokenizerFast",
        ["bos_token"] = bos,
        ["eos_token"] = eos,
        ["unk_token"] = unk,
        ["pad_token"] = eos,
        ["add_bos_token"] = true,
        ["add_eos_token"] = true,
        ["model_max_length"] = maxLength,
        ["padding_side"] = "right",
        ["truncation_side"] = "right",
        ["split_special_tokens"] = true,
        ["clean_up_tokenization_spaces"] = false,
    };

    private static JsonObject SpecialTokens(string bos, string eos, string unk) => new()
    {
        ["bos_token"] = bos,
        ["eos_token"] = eos,
        ["unk_token"] = unk,
        ["pad_token"] = eos,
    };

    private static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(Indented) + "\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
}
