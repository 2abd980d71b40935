using System.Text.Json.Nodes;
using Trainer.Models;
using Trainer.Models.Mistral;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class ModelFamiliesTests
{
    /// <summary>A model folder holding only the tiny model's config.json with <c>model_type</c> set (null: removed).</summary>
    private static string ConfigOnly(string name, string? modelType)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyMistral, "config.json")))!.AsObject();
        if (modelType is null) json.Remove("model_type");
        else json["model_type"] = modelType;
        if (modelType == "llama") json.Remove("sliding_window"); // HF's Llama has none, and a llama config with one is refused
        var dir = TestPaths.TempDir(name);
        File.WriteAllText(Path.Combine(dir, PretrainedLoader.ConfigFile), json.ToJsonString());
        return dir;
    }

    [Theory]
    [InlineData("mistral")]
    [InlineData("llama")]
    [InlineData(null)]
    public void Mistral_and_llama_are_the_mistral_family(string? modelType)
    {
        var family = ModelFamilies.Load(Path.Combine(ConfigOnly("family-" + (modelType ?? "absent"), modelType), PretrainedLoader.ConfigFile));
        var mistral = Assert.IsType<MistralFamily>(family);
        Assert.Equal(modelType ?? "mistral", family.Config.ModelType);
        Assert.Equal(MistralLayout.ParameterCount(mistral.Config), family.ParameterCount());
    }

    [Fact]
    public void An_unknown_model_type_is_refused_before_any_weight_is_read()
    {
        var dir = ConfigOnly("family-gemma2", "gemma2"); // no weight files: reading them would fail differently
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{Path.Combine(dir, "config.json")}: model_type = gemma2 is invalid; supported: mistral, llama, qwen2, qwen3.", e.Message);
    }

    [Fact]
    public void The_loader_hands_the_model_the_key_layout_of_its_files()
    {
        using var bare = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32);
        Assert.Equal(KeyLayout.Bare, bare.KeyLayout);
        var prefixed = WeightCopies.Write(TestPaths.TinyMistral, "causal-lm-keys", ScalarType.Float32, prefix: "model.");
        using var causal = PretrainedLoader.Load(prefixed, ScalarType.Float32);
        Assert.Equal(KeyLayout.CausalLm, causal.KeyLayout);
        Assert.Equal("model.norm.weight", causal.KeyLayout.Stored("norm.weight"));
    }
}
