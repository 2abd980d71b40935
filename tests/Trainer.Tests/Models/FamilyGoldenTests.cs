using System.Text.Json;
using Trainer.Export;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// The newer families against tests/reference/tiny_families.py, each a seeded tiny model (hidden 64, 2 layers) with
/// random biases and norm weights: Llama 3.1's RoPE rescale (frequencies in all three bands), Qwen2's q/k/v biases
/// (with an unused sliding window shorter than the rows) and Qwen3's per-head q/k norms (head_dim 32 ≠ 64 / 4).
/// </summary>
public class FamilyGoldenTests
{
    public static TheoryData<string> Families => ["tiny-llama3", "tiny-qwen2", "tiny-qwen3"];

    private static JsonElement Golden(string family) => JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture($"{family}.golden.json"))).RootElement;

    private static int[][] Rows(JsonElement golden) => golden.GetProperty("input_ids").EnumerateArray().Select(Trainer.Tests.Golden.Ints).ToArray();

    [Fact]
    public void The_llama3_frequencies_are_the_references_in_each_band()
    {
        var config = MistralConfig.Load(TestPaths.Fixture("tiny-llama3", "config.json"));
        Assert.Equal(new Llama3RopeScaling(32, 1, 4, 8192), config.RopeScaling);
        using var scaled = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta, scaling: config.RopeScaling);
        using var plain = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        var expected = Trainer.Tests.Golden.Floats(Golden("tiny-llama3").GetProperty("inverse_frequencies"));
        float[] ours = scaled.data<float>().ToArray(), unscaled = plain.data<float>().ToArray();

        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(ours[i] - expected[i]) <= 1e-6 * expected[i], $"frequency {i}: {ours[i]} vs {expected[i]}");
        // the bands: wavelengths below 8192 / 4 kept, above 8192 / 1 divided by 32, the one between blended
        var ratio = unscaled.Zip(ours, (u, s) => u / s).ToArray();
        Assert.Equal([1, 1, 1, 1], ratio[..4].Select(r => Math.Round(r, 5)));
        Assert.InRange(ratio[4], 1.5, 31.5);
        Assert.All(ratio[5..], r => Assert.Equal(32, r, 4));
    }

    [Fact]
    public void The_qwen_configs_set_their_switches_and_drop_the_unused_window()
    {
        var qwen2 = ModelFamilies.Load(TestPaths.Fixture("tiny-qwen2", "config.json")).Config;
        var qwen3 = ModelFamilies.Load(TestPaths.Fixture("tiny-qwen3", "config.json")).Config;
        Assert.Equal((true, false, (int?)null, 16), (((MistralConfig)qwen2).QkvBias, ((MistralConfig)qwen2).QkNorm, qwen2.SlidingWindow, qwen2.HeadDim));
        Assert.Equal((false, true, (int?)null, 32), (((MistralConfig)qwen3).QkvBias, ((MistralConfig)qwen3).QkNorm, qwen3.SlidingWindow, qwen3.HeadDim));
    }

    [Theory]
    [InlineData("tiny-qwen2", "use_sliding_window", "true", "use_sliding_window = true is not supported; only false (full causal attention in every layer")]
    [InlineData("tiny-qwen3", "use_sliding_window", "true", "use_sliding_window = true is not supported")]
    [InlineData("tiny-qwen3", "layer_types", "[\"full_attention\", \"sliding_attention\"]", "layer_types holds \"sliding_attention\", which is not supported")]
    [InlineData("tiny-qwen3", "attention_bias", "true", "attention_bias = true is not supported; only false (projections without bias) is implemented.")]
    public void A_qwen_config_that_turns_on_what_is_not_implemented_is_refused_naming_the_key(string family, string key, string value, string message)
    {
        var folder = TestPaths.TempDir("qwen-config");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestPaths.Fixture(family, "config.json")))!.AsObject();
        json[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        var path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => ModelFamilies.Load(path));
        Assert.StartsWith($"{path}: {message}", e.Message);
    }

    [Fact]
    public void Qwen3s_head_dim_defaults_to_128_and_qwens_key_value_heads_to_the_query_heads()
    {
        var folder = TestPaths.TempDir("qwen3-defaults");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("tiny-qwen3", "config.json")))!.AsObject();
        json.Remove("head_dim");
        json.Remove("num_key_value_heads");
        json.Remove("rms_norm_eps");
        var path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, json.ToJsonString());
        var config = (MistralConfig)ModelFamilies.Load(path).Config;
        Assert.Equal((128, 4, 1e-6), (config.HeadDim, config.NumKeyValueHeads, config.RmsNormEps));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_layout_lists_the_models_parameters_in_order_with_their_shapes(string family)
    {
        var loaded = ModelFamilies.Load(TestPaths.Fixture(family, "config.json"));
        using var model = loaded.Create(ScalarType.Float32, CPU, null, KeyLayout.Bare);
        var parameters = model.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList();
        var layout = loaded.Tensors().ToList();
        Assert.Equal(layout.Select(t => t.Name), parameters.Select(p => p.name));
        Assert.Equal(layout.Select(t => t.Shape), parameters.Select(p => p.shape));
        Assert.Equal(loaded.TensorCount(), layout.Count);
        Assert.Equal(loaded.ParameterCount(), parameters.Sum(p => p.shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_forward_matches_the_reference_on_every_real_token_and_the_pooled_embedding(string family)
    {
        var golden = Golden(family);
        var rows = Rows(golden);
        var hiddenGolden = golden.GetProperty("last_hidden_state").EnumerateArray().Select(r => r.EnumerateArray().Select(Trainer.Tests.Golden.Floats).ToList()).ToList();
        var embeddings = golden.GetProperty("embeddings").EnumerateArray().Select(Trainer.Tests.Golden.Floats).ToList();
        using var model = PretrainedLoader.Load(TestPaths.Fixture(family), ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = PaddedBatch.Create(rows, padId: 2);
        var hidden = model.call(batch.InputIds, batch.AttentionMask);

        double max = 0;
        for (int b = 0; b < rows.Length; b++)
            for (int s = 0; s < rows[b].Length; s++)
                max = Math.Max(max, Trainer.Tests.Golden.MaxAbsDiff(hiddenGolden[b][s], hidden[b, s].data<float>().ToArray()));
        Assert.True(max <= 1e-5, $"{family}: max abs diff of the hidden state {max}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{family}: hidden state max abs diff {max:G3}");
        for (int b = 0; b < rows.Length; b++)
        {
            var pooled = nn.functional.normalize(hidden[b, rows[b].Length - 1], p: 2, dim: -1).data<float>().ToArray();
            Assert.True(Trainer.Tests.Golden.MaxAbsDiff(embeddings[b], pooled) <= 1e-5, $"{family}: row {b}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_onnx_export_matches_the_model(string family)
    {
        var rows = Rows(Golden(family));
        var folder = TestPaths.TempDir($"{family}-onnx");
        string onnx;
        using (var weights = new MergedWeights(TestPaths.Fixture(family), null)) onnx = ExportJob.WriteOnnx(weights, ScalarType.Float32, 17, folder, external: false, eosId: 2);
        var parity = OnnxVerifier.Verify(onnx, TestPaths.Fixture(family), null, ParityRule.For(ScalarType.Float32), rows);
        Assert.True(parity.Passed, parity.ToString());
        Assert.True(parity.HiddenMaxAbs <= 1e-4, $"{family}: {parity}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{family}: {parity}");
    }
}
