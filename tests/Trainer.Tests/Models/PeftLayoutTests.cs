using System.Text.Json;
using Trainer.Export;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// The adapter's key layout is the one PEFT matches against <c>AutoModel.from_pretrained(base)</c>, i.e. Hugging Face's
/// <c>MistralModel</c>, whatever prefix the base checkpoint's keys carry (docs/peft-layout.md); adapters in the layout
/// written before (the base checkpoint's prefix kept) still load and merge.
/// </summary>
public class PeftLayoutTests
{
    /// <summary>
    /// Module names of transformers' MistralModel (modeling_mistral.py: <c>self.layers[i].self_attn.{q,k,v,o}_proj</c>,
    /// <c>self.layers[i].mlp.{gate,up,down}_proj</c>, no <c>model.</c> attribute), written out independently of our model.
    /// </summary>
    private static IEnumerable<string> AutoModelModules(int layers, IEnumerable<string> targets) =>
        from i in Enumerable.Range(0, layers)
        from t in targets
        select $"layers.{i}.{(t is "gate_proj" or "up_proj" or "down_proj" ? "mlp" : "self_attn")}.{t}";

    /// <summary>A model with seeded, non-zero A and B for <paramref name="settings"/>.</summary>
    private static EmbeddingDecoder Adapted(string modelDir, LoraSettings settings, ulong seed = 3)
    {
        var model = PretrainedLoader.Load(modelDir, ScalarType.Float32, lora: settings);
        using var generator = new Generator(seed);
        foreach (var (_, adapter) in model.Adapters())
        {
            adapter.ResetAdapter(generator);
            using var _ = no_grad();
            adapter.lora_B.weight.copy_(randn(adapter.lora_B.weight.shape, generator: generator));
        }
        return model;
    }

    public static TheoryData<string, string, int> Models() => new()
    {
        { "tiny-mistral", "", 2 },           // MistralModel keys, like e5-mistral-7b-instruct
        { "stories260k", "model.", 5 },      // MistralForCausalLM keys
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Keys_are_autoModel_module_names_whatever_the_base_checkpoint_prefix(string name, string basePrefix, int layers)
    {
        var modelDir = Path.Combine(TestPaths.RepoRoot, "models", name);
        Assert.Equal(basePrefix, KeyLayout.Of(WeightFiles.Find(modelDir).TensorToFile.Keys).Prefix); // the fixtures differ as claimed
        using var model = Adapted(modelDir, new LoraSettings(4, 8, 0, LoraSettings.AllProjections));
        var dir = TestPaths.TempDir("peft-layout-" + name);
        PeftAdapter.Save(dir, model, modelDir);

        var header = SafetensorsHeader.Read(Path.Combine(dir, PeftAdapter.WeightsFile));
        var expected = AutoModelModules(layers, LoraSettings.AllProjections)
            .SelectMany(m => new[] { $"base_model.model.{m}.lora_A.weight", $"base_model.model.{m}.lora_B.weight" });
        Assert.Equal(expected.Order(StringComparer.Ordinal), header.Entries.Keys.Order(StringComparer.Ordinal));

        // shapes as PEFT's nn.Linear adapters hold them: A [r, in], B [out, r]
        var config = ModelFamilies.Load(Path.Combine(modelDir, "config.json")).Config;
        Assert.Equal([4L, config.HiddenSize], header.Entries["base_model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
        Assert.Equal([(long)config.HiddenSize, 4L], header.Entries["base_model.model.layers.0.self_attn.o_proj.lora_B.weight"].Shape);
    }

    [Fact]
    public void Adapter_config_has_the_fields_peft_reads_for_plain_lora()
    {
        using var model = Adapted(TestPaths.Stories260k, new LoraSettings(4, 8, 0.1, ["q_proj", "v_proj"]));
        var dir = TestPaths.TempDir("peft-config");
        PeftAdapter.Save(dir, model, TestPaths.Stories260k);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapter.ConfigFile)));
        var root = json.RootElement;
        Assert.Equal("LORA", root.GetProperty("peft_type").GetString());
        Assert.Equal("FEATURE_EXTRACTION", root.GetProperty("task_type").GetString());
        Assert.Equal((4, 8.0, 0.1), (root.GetProperty("r").GetInt32(), root.GetProperty("lora_alpha").GetDouble(), root.GetProperty("lora_dropout").GetDouble()));
        Assert.Equal(["q_proj", "v_proj"], root.GetProperty("target_modules").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("none", root.GetProperty("bias").GetString());
        foreach (var flag in new[] { "fan_in_fan_out", "use_rslora", "use_dora" }) Assert.False(root.GetProperty(flag).GetBoolean(), flag);
        Assert.Equal(TestPaths.Stories260k, root.GetProperty("base_model_name_or_path").GetString());
    }

    [Theory]
    [InlineData("use_rslora", "true", "true", "false")]
    [InlineData("use_dora", "true", "true", "false")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}", "{\"q_proj\":8}", "{}")]
    public void Adapter_settings_that_change_the_arithmetic_are_refused(string key, string value, string shown, string allowed)
    {
        var dir = TestPaths.TempDir("peft-unsupported");
        var fixture = Path.Combine(TestPaths.TinyMistral, "lora-adapter");
        File.Copy(Path.Combine(fixture, PeftAdapter.WeightsFile), Path.Combine(dir, PeftAdapter.WeightsFile));
        var config = File.ReadAllText(Path.Combine(fixture, PeftAdapter.ConfigFile)).Replace("\"r\": 4,", $"\"r\": 4, \"{key}\": {value},", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, PeftAdapter.ConfigFile), config);
        var e = Assert.Throws<NotSupportedException>(() => PeftAdapter.ReadSettings(dir));
        Assert.Equal($"{Path.Combine(dir, PeftAdapter.ConfigFile)}: \"{key}\": {shown} is not supported; only {allowed} (plain LoRA, scaling alpha / r).", e.Message);
    }

    /// <summary>Rewrites an adapter folder with every module path behind the <c>model.</c> prefix: the layout written before, and PEFT's for a …ForCausalLM.</summary>
    private static string Prefixed(string dir)
    {
        var old = TestPaths.TempDir("peft-prefixed");
        File.Copy(Path.Combine(dir, PeftAdapter.ConfigFile), Path.Combine(old, PeftAdapter.ConfigFile));
        using var reader = new SafetensorsReader(Path.Combine(dir, PeftAdapter.WeightsFile));
        var tensors = reader.Header.Entries.Keys.ToDictionary(k => k.Replace("base_model.model.", "base_model.model.model.", StringComparison.Ordinal), k => reader.Read(k));
        SafetensorsWriter.Write(Path.Combine(old, PeftAdapter.WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var t in tensors.Values) t.Dispose();
        return old;
    }

    [Theory]
    [InlineData("stories260k")]  // what this trainer wrote before for a model.-prefixed base
    [InlineData("tiny-mistral")] // a PEFT adapter saved from a …ForCausalLM, applied to a bare base
    public void Prefixed_adapters_still_load_and_merge_like_the_new_layout(string name)
    {
        var modelDir = Path.Combine(TestPaths.RepoRoot, "models", name);
        var settings = new LoraSettings(4, 8, 0, ["q_proj", "down_proj"]);
        using var model = Adapted(modelDir, settings);
        var current = TestPaths.TempDir("peft-current");
        PeftAdapter.Save(current, model, modelDir);
        var old = Prefixed(current);
        Assert.All(SafetensorsHeader.Read(Path.Combine(old, PeftAdapter.WeightsFile)).Entries.Keys, k => Assert.StartsWith("base_model.model.model.layers.", k));

        using var loaded = PretrainedLoader.Load(modelDir, ScalarType.Float32, lora: PeftAdapter.ReadSettings(old));
        PeftAdapter.Load(old, loaded);
        var original = PeftAdapter.Keys(model).ToDictionary(k => k.Key, k => k.Parameter);
        foreach (var (key, p) in PeftAdapter.Keys(loaded)) Assert.True(p.eq(original[key]).all().item<bool>(), key);

        using var fromOld = new MergedWeights(modelDir, old);
        using var fromCurrent = new MergedWeights(modelDir, current);
        using var plain = new MergedWeights(modelDir, null);
        Assert.Equal(model.Adapters().Count(), fromOld.MergedCount);
        foreach (var parameter in new[] { "layers.1.self_attn.q_proj.weight", "layers.0.mlp.down_proj.weight" })
        {
            using var scope = NewDisposeScope();
            Assert.True(fromOld.Parameter(parameter, ScalarType.Float32).eq(fromCurrent.Parameter(parameter, ScalarType.Float32)).all().item<bool>(), parameter);
            Assert.False(fromOld.Parameter(parameter, ScalarType.Float32).eq(plain.Parameter(parameter, ScalarType.Float32)).all().item<bool>(), parameter); // the adapter was merged
        }
    }

    [Fact]
    public void Adapter_keys_outside_the_model_are_refused_in_either_layout()
    {
        using var model = Adapted(TestPaths.Stories260k, new LoraSettings(4, 8, 0, ["q_proj"]));
        var dir = TestPaths.TempDir("peft-extra");
        PeftAdapter.Save(dir, model, TestPaths.Stories260k);
        using var narrower = PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32, lora: new LoraSettings(4, 8, 0, ["v_proj"]));
        foreach (var adapter in new[] { dir, Prefixed(dir) })
        {
            var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(adapter, narrower));
            Assert.Contains("missing adapter tensor(s) 'base_model.model.", e.Message);
            Assert.Contains(".self_attn.v_proj.lora_A.weight'", e.Message);
        }
    }
}
