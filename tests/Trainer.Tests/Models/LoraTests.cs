using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class LoraTests
{
    private static string FixtureAdapter => Path.Combine(TestPaths.TinyMistral, "lora-adapter");

    public static MistralModel LoadWithFixtureAdapter()
    {
        var model = (MistralModel)PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: PeftAdapter.ReadSettings(FixtureAdapter));
        PeftAdapter.Load(FixtureAdapter, model);
        return model;
    }

    [Fact]
    public void Fixture_adapter_reproduces_reference_embeddings()
    {
        var expected = Golden.Tiny.GetProperty("lora_embeddings").EnumerateArray().Select(Golden.Floats).ToList();
        using var model = LoadWithFixtureAdapter();
        var actual = new TextEmbedder(model, batchSize: 4).Embed(Golden.TinyCases().Select(c => c.InputIds).ToList());
        Assert.Equal(7, expected.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(Golden.MaxAbsDiff(expected[i], actual[i]) <= 1e-5, $"case {i}");
    }

    [Fact]
    public void New_adapter_leaves_the_base_model_unchanged()
    {
        var settings = new LoraSettings(8, 16, 0.1, LoraSettings.AllProjections);
        using var model = (MistralModel)PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: settings);
        using var generator = new Generator(7);
        foreach (var (_, adapter) in model.Adapters()) adapter.ResetAdapter(generator);
        var rows = Golden.TinyCases().Select(c => c.InputIds).ToList();
        var embeddings = new TextEmbedder(model).Embed(rows);
        for (int i = 0; i < rows.Count; i++) Assert.True(Golden.MaxAbsDiff(Golden.TinyCases()[i].Embedding, embeddings[i]) <= 1e-6);

        // A is Kaiming-uniform with a = √5: U(−1/√in, 1/√in).
        var a = model.layers[0].mlp.down_proj is LoraLinear down ? down.lora_A.weight : throw new InvalidOperationException();
        double bound = 1 / Math.Sqrt(64);
        Assert.InRange(a.abs().max().item<float>(), 0.8 * bound, bound);
        Assert.Equal(2 * 7 * 2, model.TrainableParameters().Count());
    }

    [Fact]
    public void Peft_round_trip_of_a_prefixed_base_model()
    {
        var settings = new LoraSettings(4, 8, 0, ["q_proj", "v_proj"]);
        using var model = PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32, lora: settings);
        using var generator = new Generator(3);
        foreach (var (_, adapter) in model.Adapters())
        {
            adapter.ResetAdapter(generator);
            using var _ = no_grad();
            adapter.lora_B.weight.copy_(randn(adapter.lora_B.weight.shape, generator: generator));
        }
        var dir = TestPaths.TempDir("peft");
        PeftAdapter.Save(dir, model, "stories260k");

        var header = SafetensorsHeader.Read(Path.Combine(dir, PeftAdapter.WeightsFile));
        Assert.Contains("base_model.model.layers.0.self_attn.q_proj.lora_A.weight", header.Entries.Keys); // AutoModel's module names: see PeftLayoutTests
        Assert.Equal(5 * 2 * 2, header.Entries.Count);
        var read = PeftAdapter.ReadSettings(dir);
        Assert.Equal((4, 8.0), (read.Rank, read.Alpha));
        Assert.Equal(["q_proj", "v_proj"], read.TargetModules);

        using var copy = PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32, lora: read);
        PeftAdapter.Load(dir, copy);
        var original = PeftAdapter.Keys(model).ToDictionary(k => k.Key, k => k.Parameter);
        foreach (var (key, p) in PeftAdapter.Keys(copy)) Assert.True(p.eq(original[key]).all().item<bool>(), key);
    }

    [Fact]
    public void Adapter_with_other_rank_is_refused_naming_both()
    {
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: new LoraSettings(16, 32, 0, LoraSettings.AllProjections));
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(FixtureAdapter, model));
        Assert.Contains("r = 4", e.Message);
        Assert.Contains("r = 16", e.Message);
    }
}
