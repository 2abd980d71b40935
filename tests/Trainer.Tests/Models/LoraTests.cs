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
    /// LoRA dropout masks the input in the base dtype and casts afterwards (fewer bytes on a bf16 base), and adds the
    /// float32 delta into the base output in place. That must be PEFT's float32-first formula, x.to(float32)·keep, with
    /// the sum taken in float32 and rounded once to the base dtype, bit for bit: output, input gradient and adapter
    /// gradients.
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
        using var factor = (2.0 / 0.9).ToScalar(); // α/r over the keep probability, on the rank-r intermediate
        using var one = 1.ToScalar();

        // The reference: the same mask (draw 0 of seed 5), applied after the cast to float32.
        dropout.ManualSeed(5);
        var keep = dropout.KeepMask([3, 5, 48], 0.1, CPU);
        var x1 = input.detach().clone().requires_grad_();
        var h = x1.to(ScalarType.Float32) * keep;
        var expected = nn.functional.linear(x1, layer.weight).to(ScalarType.Float32).add(layer.lora_B.call(layer.lora_A.call(h) * factor), alpha: one).to(dtype);
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

    /// <summary>
    /// The adapter against the textbook formula in float64, y = x·Wᵀ + (x·keep / (1 − p))·Aᵀ·Bᵀ·α/r, with the same
    /// mask: <see cref="LoraLinear"/> applies α/r and 1/(1 − p) to the rank-r intermediate instead, which may differ
    /// only by float32 rounding. Output, input gradient and both adapter gradients; with dropout (training) and without
    /// (evaluation, where keep is all true and p is 0).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_adapter_equals_the_textbook_formula_in_float64(bool training)
    {
        using var scope = NewDisposeScope();
        var e = AgainstTextbook(ScalarType.Float32, inModelDtype: false, training);
        Assert.True(e.Output < 1e-6, $"output: {e.Output:E2}");
        Assert.True(e.Input < 1e-6, $"input gradient: {e.Input:E2}");
        Assert.True(e.A < 1e-6, $"lora_A gradient: {e.A:E2}");
        Assert.True(e.B < 1e-6, $"lora_B gradient: {e.B:E2}");
    }

    /// <summary>
    /// <c>lora.compute_dtype: model</c> on a bfloat16 or float16 base, against the same float64 formula: within the
    /// base dtype's rounding, one unit at 1 (the output is rounded to it either way). Float32 adapters on the same base give the
    /// adapter gradients to float32 precision; in the model dtype they carry its rounding, which shows the matmuls
    /// really ran in it. Without dropout too.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.BFloat16, true)]
    [InlineData(ScalarType.BFloat16, false)]
    [InlineData(ScalarType.Float16, true)]
    public void In_the_model_dtype_the_adapter_is_the_textbook_formula_within_its_rounding(ScalarType dtype, bool training)
    {
        using var scope = NewDisposeScope();
        var inFloat32 = AgainstTextbook(dtype, inModelDtype: false, training);
        var inModel = AgainstTextbook(dtype, inModelDtype: true, training);
        TestContext.Current.TestOutputHelper?.WriteLine($"{dtype}, training {training}: float32 adapter {inFloat32}; in the model dtype {inModel}");
        double unit = dtype == ScalarType.BFloat16 ? 1.0 / 128 : 1.0 / 1024; // a unit in the last place at 1
        foreach (var e in new[] { inFloat32, inModel })
        {
            Assert.True(e.Output < unit && e.Input < unit, $"output {e.Output:E2}, input gradient {e.Input:E2}");
            Assert.True(e.A < unit && e.B < unit, $"lora_A gradient {e.A:E2}, lora_B gradient {e.B:E2}");
        }
        Assert.True(inFloat32.A < 1e-5 && inFloat32.B < 1e-5, $"float32 adapter: lora_A {inFloat32.A:E2}, lora_B {inFloat32.B:E2}");
        Assert.True(inModel.A > 1e-5 && inModel.B > 1e-5, $"model dtype: lora_A {inModel.A:E2}, lora_B {inModel.B:E2}");
    }

    /// <summary>On a float32 base, <c>lora.compute_dtype: model</c> is the float32 adapter, bit for bit.</summary>
    [Fact]
    public void In_the_model_dtype_on_a_float32_base_the_adapter_is_the_float32_one_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var a = AgainstTextbook(ScalarType.Float32, inModelDtype: false, training: true);
        var b = AgainstTextbook(ScalarType.Float32, inModelDtype: true, training: true);
        Assert.Equal(a, b);
    }

    /// <summary>Relative errors (2-norm) of a LoRA layer's output and gradients against the float64 formula.</summary>
    internal sealed record TextbookErrors(double Output, double Input, double A, double B)
    {
        public override string ToString() => $"output {Output:E2}, input gradient {Input:E2}, lora_A {A:E2}, lora_B {B:E2}";
    }

    /// <summary>
    /// One forward and backward of a [96 → 40] rank-8 layer on a <paramref name="dtype"/> base against
    /// y = x·Wᵀ + (x·keep / (1 − p))·Aᵀ·Bᵀ·α/r in float64, on the same (dtype-rounded) inputs and weights and mask,
    /// on <paramref name="device"/> (the CPU unless told; the CUDA suite runs it on cuda:0).
    /// </summary>
    internal static TextbookErrors AgainstTextbook(ScalarType dtype, bool inModelDtype, bool training, Device? device = null)
    {
        device ??= CPU;
        using var random = new Generator(12);
        using var dropout = new DropoutGenerator();
        var layer = new LoraLinear(96, 40, new LoraSettings(8, 16, 0.1, LoraSettings.AllProjections, inModelDtype), dtype, device, () => dropout);
        using (no_grad())
        {
            layer.weight.copy_(randn([40, 96], generator: random).to(dtype));
            layer.lora_A.weight.copy_(randn([8, 96], generator: random));
            layer.lora_B.weight.copy_(randn([40, 8], generator: random));
        }
        layer.train(training);
        var input = randn([4, 7, 96], generator: random).to(dtype, device);
        var upstream = randn([4, 7, 40], generator: random).to(dtype, device);

        dropout.ManualSeed(9);
        var x = input.detach().clone().requires_grad_();
        var actual = layer.call(x);
        actual.backward([upstream]);

        dropout.ManualSeed(9);
        double p = training ? 0.1 : 0.0;
        var keep = training ? dropout.KeepMask([4, 7, 96], 0.1, device) : ones([4, 7, 96], ScalarType.Bool, device);
        Assert.Equal(training, !keep.all().item<bool>()); // with dropout the mask drops something
        var x64 = input.to(ScalarType.Float64).requires_grad_();
        var w = layer.weight.detach().to(ScalarType.Float64);
        var a = layer.lora_A.weight.detach().to(ScalarType.Float64).requires_grad_();
        var b = layer.lora_B.weight.detach().to(ScalarType.Float64).requires_grad_();
        using var keepProbability = (1 - p).ToScalar();
        using var scaling = 2.0.ToScalar();
        var h = x64 * keep / keepProbability;
        var expected = x64.matmul(w.t()) + h.matmul(a.t()).matmul(b.t()) * scaling;
        expected.backward([upstream.to(ScalarType.Float64)]);

        Assert.Equal(dtype, actual.dtype);
        double Relative(Tensor ours, Tensor reference) =>
            (ours.to(ScalarType.Float64) - reference).norm().item<double>() / reference.norm().item<double>();
        return new(Relative(actual, expected), Relative(x.grad!, x64.grad!), Relative(layer.lora_A.weight.grad!, a.grad!), Relative(layer.lora_B.weight.grad!, b.grad!));
    }
}
