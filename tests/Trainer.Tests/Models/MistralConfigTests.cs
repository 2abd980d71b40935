using System.Text.Json.Nodes;
using Trainer.Models.Mistral;

namespace Trainer.Tests.Models;

public class MistralConfigTests
{
    private static MistralConfig LoadEdited(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyMistral, "config.json")))!.AsObject();
        edit(json);
        var path = Path.Combine(TestPaths.TempDir("config"), "config.json");
        File.WriteAllText(path, json.ToJsonString());
        return MistralConfig.Load(path);
    }

    [Fact]
    public void Reads_the_fixture_config()
    {
        var config = LoadEdited(_ => { });
        Assert.Equal((32000, 32, 64, 2, 4, 2, 8), (config.VocabSize, config.HiddenSize, config.IntermediateSize, config.NumHiddenLayers,
            config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim));
        Assert.Equal(6, config.SlidingWindow);
        Assert.Equal(10000.0, config.RopeTheta);
        Assert.Equal(1e-5, config.RmsNormEps);
        Assert.Equal((1, 2), (config.BosTokenId, config.EosTokenId));
        Assert.Equal("float32", config.TorchDType);
    }

    [Fact]
    public void Head_dim_defaults_to_hidden_over_heads_when_absent_or_null()
    {
        Assert.Equal(8, LoadEdited(j => j.Remove("head_dim")).HeadDim);
        Assert.Equal(8, LoadEdited(j => j["head_dim"] = null).HeadDim);
        Assert.Equal(16, LoadEdited(j => j["head_dim"] = 16).HeadDim);
        Assert.Null(LoadEdited(j => j["sliding_window"] = null).SlidingWindow);
    }

    [Theory]
    [InlineData("model_type", "\"gpt2\"", "model_type = gpt2")]
    [InlineData("num_key_value_heads", "3", "num_key_value_heads = 3")]
    [InlineData("head_dim", "7", "head_dim = 7")]
    [InlineData("sliding_window", "0", "sliding_window = 0")]
    [InlineData("eos_token_id", "40000", "eos_token_id = 40000")]
    public void Invalid_values_name_the_key_and_value(string key, string value, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j[key] = JsonNode.Parse(value)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Head_dim_absent_with_indivisible_hidden_size_is_explained()
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => { j.Remove("head_dim"); j["num_attention_heads"] = 3; j["num_key_value_heads"] = 1; }));
        Assert.Contains("hidden_size (32) must be divisible by num_attention_heads (3)", e.Message);
    }

    [Theory]
    [InlineData("rope_scaling", "{\"factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"yarn\"}",
        "rope_scaling = {\"factor\":4.0,\"original_max_position_embeddings\":8192,\"rope_type\":\"yarn\"} is not supported; only plain RoPE (null, or rope_type default) and rope_type llama3 (Llama 3.1's rescale) are implemented.")]
    [InlineData("rope_scaling", "{\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"rope_type\": \"llama3\"}",
        "rope_scaling.original_max_position_embeddings = missing is invalid; a llama3 rope_scaling needs it as a number.")]
    [InlineData("rope_scaling", "{\"factor\": 8.0, \"low_freq_factor\": 4.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}",
        "rope_scaling.high_freq_factor = 4 is invalid; it must be greater than low_freq_factor (4).")]
    [InlineData("rope_scaling", "{\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\", \"beta_fast\": 32}",
        "rope_scaling.beta_fast = 32 is not supported; a llama3 rope_scaling has factor, low_freq_factor, high_freq_factor, original_max_position_embeddings.")]
    [InlineData("rope_scaling", "{\"factor\": 2.0, \"type\": \"linear\"}", "rope_scaling = {\"factor\":2.0,\"type\":\"linear\"} is not supported")]
    [InlineData("rope_parameters", "{\"rope_type\": \"yarn\", \"rope_theta\": 10000.0, \"factor\": 4.0}", "rope_parameters = {\"rope_type\":\"yarn\",\"rope_theta\":10000.0,\"factor\":4.0} is not supported")]
    [InlineData("partial_rotary_factor", "0.5", "partial_rotary_factor = 0.5 is not supported; only 1 (rotary embedding over the whole head) is implemented.")]
    [InlineData("attention_bias", "true", "attention_bias = true is not supported; only false (projections without bias) is implemented.")]
    [InlineData("mlp_bias", "true", "mlp_bias = true is not supported; only false (projections without bias) is implemented.")]
    [InlineData("attention_dropout", "0.1", "attention_dropout = 0.1 is not supported; only 0")]
    [InlineData("eos_token_id", "[]", "eos_token_id = [] is not supported; an integer, or a non-empty list of integers (its first id is used).")]
    [InlineData("bos_token_id", "[\"<s>\"]", "bos_token_id = [\"<s>\"] is not supported")]
    public void Keys_whose_numerics_the_model_does_not_implement_are_refused_by_name_and_value(string key, string value, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j[key] = JsonNode.Parse(value)));
        Assert.Contains("config.json: " + expected, e.Message); // names the file, the key and its value
    }

    [Fact]
    public void A_sliding_window_on_a_llama_config_is_refused_because_hf_llama_ignores_it()
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j["model_type"] = "llama"));
        Assert.Contains("sliding_window = 6 is not supported; Hugging Face's Llama has no sliding window", e.Message);
        Assert.Null(LoadEdited(j => { j["model_type"] = "llama"; j["sliding_window"] = null; }).SlidingWindow);
    }

    [Fact]
    public void The_values_that_mean_what_the_model_computes_are_accepted()
    {
        var plain = LoadEdited(_ => { });
        var explicitDefaults = LoadEdited(j =>
        {
            j["rope_scaling"] = null;
            j["attention_bias"] = false;
            j["mlp_bias"] = false;
            j["attention_dropout"] = 0.0;
            j["partial_rotary_factor"] = 1.0;
            j["pretraining_tp"] = 1;
        });
        Assert.Equal(plain, explicitDefaults);
        Assert.Equal(plain, LoadEdited(j => j["rope_scaling"] = JsonNode.Parse("{\"rope_type\": \"default\"}")));
    }

    [Fact]
    public void Transformers_5_rope_parameters_supply_rope_theta_and_must_agree_with_a_top_level_one()
    {
        Assert.Equal(1e6, LoadEdited(j => { j.Remove("rope_theta"); j["rope_parameters"] = JsonNode.Parse("{\"rope_type\": \"default\", \"rope_theta\": 1000000.0}"); }).RopeTheta);
        Assert.Equal(10000.0, LoadEdited(j => j["rope_parameters"] = JsonNode.Parse("{\"rope_type\": \"default\", \"rope_theta\": 10000}")).RopeTheta);
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j["rope_parameters"] = JsonNode.Parse("{\"rope_type\": \"default\", \"rope_theta\": 500000.0}")));
        Assert.Contains("rope_parameters.rope_theta = 500000.0 is not supported; it must equal rope_theta (10000.0) when both are given", e.Message);
    }

    [Fact]
    public void A_llama3_rope_is_read_from_rope_scaling_or_rope_parameters_and_both_spellings_agree()
    {
        const string Values = "\"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192";
        var expected = new Trainer.Models.Modules.Llama3RopeScaling(32, 1, 4, 8192);
        Assert.Equal(expected, LoadEdited(j => j["rope_scaling"] = JsonNode.Parse($"{{{Values}, \"rope_type\": \"llama3\"}}")).RopeScaling);
        Assert.Equal(expected, LoadEdited(j => j["rope_scaling"] = JsonNode.Parse($"{{{Values}, \"type\": \"llama3\"}}")).RopeScaling);
        var v5 = LoadEdited(j => { j.Remove("rope_theta"); j["rope_parameters"] = JsonNode.Parse($"{{{Values}, \"rope_type\": \"llama3\", \"rope_theta\": 500000.0}}"); });
        Assert.Equal(expected, v5.RopeScaling);
        Assert.Equal(5e5, v5.RopeTheta);
        Assert.Null(LoadEdited(_ => { }).RopeScaling);
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j =>
        {
            j["rope_scaling"] = JsonNode.Parse($"{{{Values}, \"rope_type\": \"llama3\"}}");
            j["rope_parameters"] = JsonNode.Parse($"{{{Values.Replace("32.0", "8.0")}, \"rope_type\": \"llama3\"}}");
        }));
        Assert.Contains("it must agree with rope_scaling when both are given", e.Message);
    }

    [Fact]
    public void A_list_of_eos_ids_is_accepted_and_its_first_id_is_the_one_used()
    {
        // Llama 3.1 Instruct lists three ids; the first pads batches and goes to embedding_config.json.
        var config = LoadEdited(j => { j["eos_token_id"] = JsonNode.Parse("[7, 2, 9]"); j["bos_token_id"] = JsonNode.Parse("[1]"); });
        Assert.Equal((1, 7), (config.BosTokenId, config.EosTokenId));
        Assert.Equal(LoadEdited(_ => { }) with { EosTokenId = 7 }, config);
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j["eos_token_id"] = JsonNode.Parse("[40000, 2]")));
        Assert.Contains("eos_token_id = 40000 is invalid; must be in [0, 32000)", e.Message);
    }

    [Fact]
    public void A_null_bos_id_is_accepted_as_Hugging_Face_accepts_it()
    {
        var config = LoadEdited(j => j["bos_token_id"] = null);
        Assert.Null(config.BosTokenId);
        Assert.Equal(LoadEdited(_ => { }) with { BosTokenId = null }, config);
        var e = Assert.Throws<InvalidDataException>(() => LoadEdited(j => j["bos_token_id"] = 40000));
        Assert.Contains("bos_token_id = 40000 is invalid; must be in [0, 32000)", e.Message);
    }
}
