using Trainer.Benchmarks;
using Trainer.Models;
using Trainer.Models.Mistral;
using static TorchSharp.torch;

namespace Trainer.Tests.Benchmarks;

public class SyntheticModelTests
{
    [Fact]
    public void A_synthetic_model_takes_the_mlp_size_it_is_given_and_loads()
    {
        var dir = TestPaths.TempDir("synthetic");
        var config = SyntheticModel.Write(dir, targetBytes: 0, ScalarType.BFloat16, hidden: 256, layers: 1, intermediateSize: 700);
        Assert.Equal((256, 700, 1, 4, 1), (config.HiddenSize, config.IntermediateSize, config.NumHiddenLayers, config.NumAttentionHeads, config.NumKeyValueHeads));
        using var model = (MistralModel)PretrainedLoader.Load(dir, ScalarType.BFloat16);
        Assert.Equal([700L, 256L], model.named_parameters().Single(p => p.name == "layers.0.mlp.gate_proj.weight").parameter.shape);
        // q, o: 256 x 256; k, v: 64 x 256 (2 KV heads of 32... 256/128 = 2 heads, 1 KV head? see below) + 3 x 256 x 700 (MLP) + 2 x 256 (layer norms) + 256 (final norm)
        Assert.Equal(2L * 256 * 256 + 2L * 256 * 64 + 3L * 256 * 700 + 3L * 256, TrainBenchmark.NonEmbeddingParameters(dir));
    }
}
