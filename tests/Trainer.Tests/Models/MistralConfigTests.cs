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
}
