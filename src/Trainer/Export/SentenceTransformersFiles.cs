using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Config;
using Trainer.Text;

namespace Trainer.Export;

/// <summary>
/// The files that make an export folder a sentence-transformers model: <c>modules.json</c> (Transformer at the root,
/// <c>1_Pooling</c> last-token pooling, <c>2_Normalize</c>), <c>sentence_bert_config.json</c> (the training
/// max_length) and <c>config_sentence_transformers.json</c>, whose <c>query</c> prompt is exactly the prefix
/// <see cref="PromptFormat"/> puts before a query with the default instruction, so that
/// <c>encode(texts, prompt_name="query")</c> formats queries as training did. Normalize has no settings and no folder
/// (sentence-transformers builds it from the name alone, as on the Hub).
/// </summary>
public static class SentenceTransformersFiles
{
    public const string ModulesFile = "modules.json";
    public const string BertConfigFile = "sentence_bert_config.json";
    public const string ConfigFile = SentenceTransformersPrompt.ConfigFile;
    public const string PoolingFolder = "1_Pooling";
    public const string NormalizeFolder = "2_Normalize";

    /// <summary>The query prompt: the prefix of a query formatted with <paramref name="instruction"/> ("" without one).</summary>
    public static string QueryPrompt(TrainConfig config, string? instruction) => new QueryTemplate(config.Data.QueryTemplate).Prompt(instruction);

    public static void Write(string dir, TrainConfig config, int hiddenSize)
    {
        var options = new JsonSerializerOptions { WriteIndented = true };
        void Save(string path, JsonNode json) => File.WriteAllText(Path.Combine(dir, path), json.ToJsonString(options) + "\n");

        Save(ModulesFile, new JsonArray(
            Module(0, "", "Transformer"),
            Module(1, PoolingFolder, "Pooling"),
            Module(2, NormalizeFolder, "Normalize")));
        Save(BertConfigFile, new JsonObject { ["max_seq_length"] = config.Model.MaxLength, ["do_lower_case"] = false });
        Save(ConfigFile, new JsonObject
        {
            ["model_type"] = "SentenceTransformer",
            ["prompts"] = new JsonObject { ["query"] = QueryPrompt(config, config.Data.DefaultInstruction), ["document"] = "" },
            ["default_prompt_name"] = null,
            ["similarity_fn_name"] = "cosine",
        });
        Directory.CreateDirectory(Path.Combine(dir, PoolingFolder));
        Save(Path.Combine(PoolingFolder, "config.json"), new JsonObject
        {
            ["word_embedding_dimension"] = hiddenSize,
            ["pooling_mode_cls_token"] = false,
            ["pooling_mode_mean_tokens"] = false,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
            ["pooling_mode_weightedmean_tokens"] = false,
            ["pooling_mode_lasttoken"] = true,
            ["include_prompt"] = true,
        });
    }

    private static JsonObject Module(int index, string path, string type) => new()
    {
        ["idx"] = index,
        ["name"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["path"] = path,
        ["type"] = "sentence_transformers.models." + type,
    };
}
