using System.Diagnostics;
using System.Text.Json.Nodes;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>Configs and LoRA settings that would exhaust memory are refused before anything is allocated (issue #8, point 8).</summary>
public class ResourceGuardTests
{
    /// <summary>A copy of the tiny model folder (real weights) with config.json edited.</summary>
    private static string TinyCopy(Action<JsonObject> edit)
    {
        var dir = TestPaths.TempDir("guard");
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.model" })
            File.Copy(Path.Combine(TestPaths.TinyMistral, file), Path.Combine(dir, file));
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        return dir;
    }

    /// <summary>
    /// Runs the load, which must fail within seconds (no model is allocated), and returns its error. One-time costs
    /// are paid first, since they are not the guard: loading libtorch (seconds when this is the process's first test to
    /// touch it) and compiling the config and header readers.
    /// </summary>
    private static T FailsFast<T>(Func<object> load) where T : Exception
    {
        using (zeros(1)) { }
        MistralConfig.Load(Path.Combine(TestPaths.TinyMistral, "config.json"));
        Trainer.Models.Weights.WeightFiles.Find(TestPaths.TinyMistral);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<T>(load);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
        return e;
    }

    [Fact]
    public void A_million_layers_over_the_tiny_weights_names_the_missing_tensors()
    {
        var dir = TinyCopy(j => j["num_hidden_layers"] = 1_000_000);
        var e = FailsFast<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{dir}: missing tensor(s) 'layers.2.self_attn.q_proj.weight', 'layers.2.self_attn.k_proj.weight', 'layers.2.self_attn.v_proj.weight', " +
                     $"'layers.2.self_attn.o_proj.weight', 'layers.2.mlp.gate_proj.weight' ({Path.Combine(dir, "config.json")} with num_hidden_layers = 1000000 " +
                     "implies 9000002 tensors; the weights hold 20).", e.Message);
    }

    [Theory]
    [InlineData("hidden_size", 1_000_000_000, "[32000, 32]", "[32000, 1000000000]")]
    [InlineData("vocab_size", 2_000_000_000, "[32000, 32]", "[2000000000, 32]")]
    public void A_huge_size_over_the_tiny_weights_names_the_tensor_and_both_shapes(string key, int value, string stored, string expected)
    {
        var dir = TinyCopy(j => j[key] = value);
        var e = FailsFast<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{Path.Combine(dir, "model.safetensors")}: tensor 'embed_tokens.weight' has shape {stored}, the model expects {expected} " +
                     $"from {Path.Combine(dir, "config.json")}.", e.Message);
    }

    [Fact]
    public void Sizes_whose_byte_count_overflows_are_refused_by_the_config()
    {
        var dir = TinyCopy(j => (j["vocab_size"], j["hidden_size"], j["intermediate_size"], j["num_hidden_layers"]) = (2_000_000_000, 2_000_000_000, 2_000_000_000, 2_000_000_000));
        var e = FailsFast<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{Path.Combine(dir, "config.json")}: vocab_size = 2000000000, hidden_size = 2000000000, intermediate_size = 2000000000 and " +
                     "num_hidden_layers = 2000000000 give a parameter count whose byte size overflows a 64-bit integer.", e.Message);

        // vocab_size × hidden_size alone is 4e18 parameters: it fits in a long, but not once multiplied by bytes.
        dir = TinyCopy(j => (j["vocab_size"], j["hidden_size"]) = (2_000_000_000, 2_000_000_000));
        Assert.Contains("overflows a 64-bit integer", FailsFast<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32)).Message);

        dir = TinyCopy(j => j["head_dim"] = 1_000_000_000);
        e = FailsFast<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{Path.Combine(dir, "config.json")}: head_dim = 1000000000 is invalid; num_attention_heads (4) × head_dim must be ≤ 2147483647.", e.Message);
    }

    [Fact]
    public void A_lora_rank_above_the_smallest_targeted_projection_is_refused_naming_the_bound()
    {
        var all = new LoraSettings(5_000_000, 16, 0, LoraSettings.AllProjections);
        var e = FailsFast<ArgumentException>(() => PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: all));
        Assert.Equal($"lora.rank = 5000000 is invalid for {Path.Combine(TestPaths.TinyMistral, "config.json")}; it must be between 1 and 16, " +
                     "min(in_features, out_features) of the targeted self_attn.k_proj (32 → 16).", e.Message);

        // The same guard sits in the model's constructor, for every other path that builds a model.
        var config = MistralConfig.Load(Path.Combine(TestPaths.TinyMistral, "config.json"));
        Assert.Contains("between 1 and 16", FailsFast<ArgumentException>(() => new MistralModel(config, ScalarType.Float32, CPU, all)).Message);
        Assert.Contains("lora.rank = 0", Assert.Throws<ArgumentException>(() => new MistralModel(config, ScalarType.Float32, CPU, all with { Rank = 0 })).Message);

        // The bound is that of the projections actually targeted: q_proj is 32 → 32, so rank 32 is allowed there, 33 is not.
        using var model = new MistralModel(config, ScalarType.Float32, CPU, all with { Rank = 32, TargetModules = ["q_proj"] });
        Assert.Equal([32L, 32L], model.Adapters().First().Module.lora_A.weight.shape);
        Assert.Contains("between 1 and 32, min(in_features, out_features) of the targeted self_attn.q_proj (32 → 32)",
            Assert.Throws<ArgumentException>(() => new MistralModel(config, ScalarType.Float32, CPU, all with { Rank = 33, TargetModules = ["q_proj"] })).Message);
    }

    [Fact]
    public void Layout_from_the_config_is_the_models_parameters()
    {
        var config = MistralConfig.Load(Path.Combine(TestPaths.TinyMistral, "config.json"));
        using var model = new MistralModel(config, ScalarType.Float32, CPU);
        var actual = model.named_parameters().Select(p => (p.name, string.Join(",", p.parameter.shape))).ToList();
        var expected = MistralLayout.Tensors(config).Select(t => (t.Name, string.Join(",", t.Shape))).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(MistralLayout.TensorCount(config), actual.Count);
        Assert.Equal(model.parameters().Sum(p => p.numel()), MistralLayout.ParameterCount(config));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Required_bytes_are_what_the_model_allocates_lora_included(ScalarType dtype)
    {
        // Layer-specific targets too: v_proj of layer 0 only, down_proj of layer 1 only, q_proj everywhere.
        var lora = new LoraSettings(4, 8, 0, ["q_proj", "0.self_attn.v_proj", "layers.1.mlp.down_proj"]);
        var config = MistralConfig.Load(Path.Combine(TestPaths.TinyMistral, "config.json"));
        using var model = new MistralModel(config, dtype, CPU, lora);
        Assert.Equal(["layers.0.self_attn.q_proj", "layers.0.self_attn.v_proj", "layers.1.self_attn.q_proj", "layers.1.mlp.down_proj"],
            model.Adapters().Select(a => a.Path));
        long allocated = model.parameters().Sum(p => p.numel() * p.ElementSize);
        Assert.Equal(allocated, ModelMemory.RequiredBytes(new MistralFamily(config), dtype, lora));
        Assert.Equal(model.TrainableParameters().Sum(p => p.numel()), MistralLayout.LoraParameterCount(config, lora));
    }

    [Fact]
    public void A_model_larger_than_the_available_memory_is_refused_naming_both_numbers()
    {
        var config = MistralConfig.Load(Path.Combine(TestPaths.TinyMistral, "config.json"));
        long required = ModelMemory.RequiredBytes(new MistralFamily(config), ScalarType.Float32, null);
        Assert.Equal(4_170_368L, required); // (32000×32 embedding + 2 layers × 9280 + 32 norm) parameters × 4 bytes
        ModelMemory.Check(required, required, "test", "Model tiny"); // exactly enough is enough
        var e = Assert.Throws<InvalidOperationException>(() => ModelMemory.Check(required, required - 1, "MemAvailable in /proc/meminfo", "Model tiny in float32"));
        Assert.Equal("Model tiny in float32 needs 4170368 bytes (0.00 GiB), more than the 4170367 bytes (0.00 GiB) of memory available " +
                     "(MemAvailable in /proc/meminfo); use a smaller model or dtype, or free memory.", e.Message);

        var available = ModelMemory.Available(CPU);
        Assert.NotNull(available);
        Assert.InRange(available.Value.Bytes, required, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        Assert.Null(ModelMemory.Available(new Device(TorchSharp.DeviceType.CUDA, 0)));
    }
}
