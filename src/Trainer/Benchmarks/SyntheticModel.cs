using System.Text.Json;
using TorchSharp;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Benchmarks;

/// <summary>Writes a random Mistral-shaped pretrained model folder of about a requested size, for memory benchmarks.</summary>
public static class SyntheticModel
{
    /// <summary>
    /// Hidden <paramref name="hidden"/> (default 2048; heads = hidden/128, KV heads = heads/4, intermediate
    /// <paramref name="intermediate"/> or 2.75×hidden) and, unless <paramref name="layers"/> is given, as many layers as
    /// make the weights reach <paramref name="targetBytes"/>. Vocabulary 32000, so the Mistral tokenizer can be copied
    /// next to it. Mistral-7B's shape: hidden 4096, intermediate 14336, 32 layers. The weights are N(0, 0.02) draws,
    /// made on <paramref name="drawOn"/> (default the CPU, seeded; CUDA is much faster for 7B-sized files and draws other
    /// numbers, seeded through the device's default generator).
    /// </summary>
    public static MistralConfig Write(string dir, long targetBytes, ScalarType dtype, long maxShardBytes = 1L << 30, int hidden = 2048, int? layers = null,
        int? intermediateSize = null, Device? drawOn = null)
    {
        int elementSize = dtype == ScalarType.Float32 ? 4 : 2;
        int heads = Math.Max(4, hidden / 128), intermediate = intermediateSize ?? hidden * 11 / 4;
        long perLayer = 2L * hidden * hidden + 2L * hidden * (hidden / 4) + 3L * hidden * intermediate + 2L * hidden;
        long fixedParams = 32000L * hidden + hidden;
        var config = new MistralConfig
        {
            VocabSize = 32000,
            HiddenSize = hidden,
            IntermediateSize = intermediate,
            NumHiddenLayers = layers ?? (int)Math.Max(1, (targetBytes / elementSize - fixedParams) / perLayer),
            NumAttentionHeads = heads,
            NumKeyValueHeads = heads / 4,
            SlidingWindow = 4096,
            MaxPositionEmbeddings = 32768,
            TorchDType = DTypes.Name(dtype),
        };
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, PretrainedLoader.ConfigFile), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));

        using var model = new MistralModel(config, dtype, CPU); // shapes only: the writer fills each tensor itself
        var layout = model.named_parameters().Select(p => (p.name, p.parameter.shape, dtype)).ToList();
        var shapes = layout.ToDictionary(l => l.name, l => l.shape);
        if (drawOn is { type: not DeviceType.CPU } device)
        {
            cuda.manual_seed_all(0);
            WeightFilesWriter.Write(dir, layout, name =>
            {
                using var std = 0.02.ToScalar();
                return (randn(shapes[name], device: device) * std).to(dtype).cpu();
            }, maxShardBytes);
            return config;
        }
        using var generator = new Generator(seed: 0);
        WeightFilesWriter.Write(dir, layout, name =>
        {
            using var std = 0.02.ToScalar();
            return (randn(shapes[name], generator: generator) * std).to(dtype);
        }, maxShardBytes);
        return config;
    }
}
