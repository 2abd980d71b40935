using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class PretrainedLoaderTests
{
    private static float[][] EmbedCases(EmbeddingDecoder model) =>
        new TextEmbedder(model, batchSize: 4).Embed(Golden.TinyCases().Select(c => c.InputIds).ToList());

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Sharded_prefixed_half_precision_copy_gives_the_rounded_models_embeddings(ScalarType stored)
    {
        // The copy: MistralForCausalLM-style "model." keys, an lm_head to ignore, three or more shards, 16-bit on disk.
        using var lmHead = randn(32000, 32);
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "sharded", stored, prefix: "model.", maxShardBytes: 600_000,
            extra: [("lm_head.weight", lmHead)]);
        Assert.True(File.Exists(Path.Combine(dir, WeightFiles.IndexFile)));
        Assert.True(WeightFiles.Find(dir).Files.Count() >= 3);

        // Reference: the original float32 model with every parameter rounded through the stored dtype.
        using var reference = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32);
        using (no_grad())
            foreach (var (_, p) in reference.named_parameters()) p.copy_(p.to(stored).to(ScalarType.Float32));

        using var loaded = PretrainedLoader.Load(dir, ScalarType.Float32);
        var expected = EmbedCases(reference);
        var actual = EmbedCases(loaded);
        var golden = Golden.TinyCases();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Golden.MaxAbsDiff(expected[i], actual[i]) <= 1e-6, $"case {i}");
            Assert.True(Golden.MaxAbsDiff(golden[i].Embedding, actual[i]) <= 2e-2, $"case {i} vs float32 golden");
        }

        // Loading straight into the stored dtype keeps the stored bits.
        using var native = PretrainedLoader.Load(dir, stored);
        var nativeParams = native.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in reference.named_parameters())
        {
            Assert.Equal(stored, nativeParams[name].dtype);
            Assert.True(nativeParams[name].to(ScalarType.Float32).eq(p).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "missing", ScalarType.Float32,
            edit: (name, t) => name == "layers.1.mlp.up_proj.weight" ? null : t);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Contains("missing tensor(s) 'layers.1.mlp.up_proj.weight'", e.Message);
    }

    [Fact]
    public void Misshaped_tensor_names_both_shapes()
    {
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "misshaped", ScalarType.Float32,
            edit: (name, t) => name == "layers.0.self_attn.k_proj.weight" ? t.narrow(0, 0, 8).contiguous() : t);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Contains("'layers.0.self_attn.k_proj.weight'", e.Message);
        Assert.Contains("[8, 32]", e.Message);
        Assert.Contains("expects [16, 32]", e.Message);
    }

    [Fact]
    public void Unexpected_tensor_is_named()
    {
        using var stray = zeros(4);
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "unexpected", ScalarType.Float32, extra: [("layers.0.self_attn.q_proj.bias", stray)]);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Contains("unexpected tensor(s) 'layers.0.self_attn.q_proj.bias'", e.Message);
    }

    [Fact]
    public void Missing_weights_file_names_the_path()
    {
        var dir = TestPaths.TempDir("noweights");
        File.Copy(Path.Combine(TestPaths.TinyMistral, "config.json"), Path.Combine(dir, "config.json"));
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Contains(Path.Combine(dir, "model.safetensors"), e.Message);
    }
}
