using TorchSharp;
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

    /// <summary>
    /// LoRA dropout masks the input in the base dtype and casts afterwards (fewer bytes on a bf16 base). That must be
    /// the float32-first formula x.to(float32)·keep / (1 − p) bit for bit: output, input gradient and adapter gradients.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Float32)]
    public void Dropout_in_the_base_dtype_equals_the_float32_formula_bit_for_bit(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var random = new Generator(11);
        using var dropout = new DropoutGenerator();
        var layer = new LoraLinear(48, 24, new LoraSettings(4, 8, 0.1, LoraSettings.AllProjections), dtype, CPU, () => dropout);
        using (no_grad())
        {
            layer.weight.copy_(randn([24, 48], generator: random).to(dtype));
            layer.lora_A.weight.copy_(randn([4, 48], generator: random));
            layer.lora_B.weight.copy_(randn([24, 4], generator: random));
        }
        layer.train();
        var input = randn([3, 5, 48], generator: random).to(dtype);
        var upstream = randn([3, 5, 24], generator: random).to(dtype);
        using var keepProbability = 0.9.ToScalar();
        using var scaling = 2.0.ToScalar();
        using var one = 1.ToScalar();

        // The reference: the same mask (draw 0 of seed 5), applied after the cast to float32.
        dropout.ManualSeed(5);
        var keep = dropout.KeepMask([3, 5, 48], 0.1, CPU);
        var x1 = input.detach().clone().requires_grad_();
        var h = x1.to(ScalarType.Float32) * keep / keepProbability;
        var expected = nn.functional.linear(x1, layer.weight).add((layer.lora_B.call(layer.lora_A.call(h)) * scaling).to(dtype), alpha: one);
        expected.backward([upstream]);
        var expectedA = layer.lora_A.weight.grad!.clone();
        var expectedB = layer.lora_B.weight.grad!.clone();
        layer.lora_A.weight.grad!.zero_();
        layer.lora_B.weight.grad!.zero_();

        dropout.ManualSeed(5);
        var x2 = input.detach().clone().requires_grad_();
        var actual = layer.call(x2);
        actual.backward([upstream]);

        Assert.Equal(dtype, actual.dtype);
        Assert.True(expected.eq(actual).all().item<bool>(), "output");
        Assert.True(x1.grad!.eq(x2.grad!).all().item<bool>(), "input gradient");
        Assert.True(expectedA.eq(layer.lora_A.weight.grad!).all().item<bool>(), "lora_A gradient");
        Assert.True(expectedB.eq(layer.lora_B.weight.grad!).all().item<bool>(), "lora_B gradient");
        Assert.False(keep.all().item<bool>()); // the mask drops something, so the test would see a wrong mask
    }
}
