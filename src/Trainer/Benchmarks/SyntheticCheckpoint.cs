using System.Text.Json;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Benchmarks;

/// <summary>Writes a random Mistral-shaped checkpoint of about a requested size, for memory benchmarks.</summary>
public static class SyntheticCheckpoint
{
    /// <summary>Hidden 2048, GQA 16/4 heads, intermediate 5632; layers chosen so the weights reach <paramref name="targetBytes"/>.</summary>
    public static MistralConfig Write(string dir, long targetBytes, ScalarType dtype, long maxShardBytes = 1L << 30)
    {
        int elementSize = dtype == ScalarType.Float32 ? 4 : 2;
        long perLayer = 2048L * 2048 * 2 + 2048L * 512 * 2 + 3L * 2048 * 5632 + 2 * 2048;
        long fixedParams = 32000L * 2048 + 2048;
        int layers = (int)Math.Max(1, (targetBytes / elementSize - fixedParams) / perLayer);
        var config = new MistralConfig
        {
            VocabSize = 32000,
            HiddenSize = 2048,
            IntermediateSize = 5632,
            NumHiddenLayers = layers,
            NumAttentionHeads = 16,
            NumKeyValueHeads = 4,
            SlidingWindow = 4096,
            MaxPositionEmbeddings = 32768,
            TorchDType = Models.DTypes.Name(dtype),
        };
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, MistralCheckpoint.ConfigFile), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));

        using var model = new MistralModel(config, dtype, CPU); // shapes only: the writer fills each tensor itself
        var layout = model.named_parameters().Select(p => (p.name, p.parameter.shape, dtype)).ToList();
        var generator = new Generator(seed: 0);
        ShardedCheckpointWriter.Write(dir, layout, name => (randn(layout.First(l => l.name == name).shape, generator: generator) * 0.02).to(dtype), maxShardBytes);
        return config;
    }
}
