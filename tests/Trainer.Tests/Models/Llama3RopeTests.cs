using System.Text.Json;
using Trainer.Export;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// Llama 3.1's RoPE rescale (<c>rope_scaling</c> type llama3) against tests/reference/tiny_llama3.py: a seeded tiny
/// model whose 8 frequencies fall in all three bands of the rescale (4 kept, 1 blended, 3 divided by the factor 32).
/// </summary>
public class Llama3RopeTests
{
    private static readonly string Folder = TestPaths.Fixture("tiny-llama3");

    private static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tiny-llama3.golden.json"))).RootElement;

    [Fact]
    public void The_rescaled_frequencies_are_the_references_in_each_band()
    {
        var config = MistralConfig.Load(Path.Combine(Folder, "config.json"));
        Assert.Equal(new Llama3RopeScaling(32, 1, 4, 8192), config.RopeScaling);
        using var scaled = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta, scaling: config.RopeScaling);
        using var plain = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        var expected = Trainer.Tests.Golden.Floats(Golden.GetProperty("inverse_frequencies"));
        float[] ours = scaled.data<float>().ToArray(), unscaled = plain.data<float>().ToArray();

        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(ours[i] - expected[i]) <= 1e-6 * expected[i], $"frequency {i}: {ours[i]} vs {expected[i]}");
        // the bands: wavelengths below 8192 / 4 kept, above 8192 / 1 divided by 32, the one between blended
        var ratio = unscaled.Zip(ours, (u, s) => u / s).ToArray();
        Assert.Equal([1, 1, 1, 1], ratio[..4].Select(r => Math.Round(r, 5)));
        Assert.InRange(ratio[4], 1.5, 31.5);
        Assert.All(ratio[5..], r => Assert.Equal(32, r, 4));
    }

    [Fact]
    public void The_forward_matches_the_reference_on_every_real_token_and_the_pooled_embedding()
    {
        var rows = Golden.GetProperty("input_ids").EnumerateArray().Select(Trainer.Tests.Golden.Ints).ToList();
        var hiddenGolden = Golden.GetProperty("last_hidden_state").EnumerateArray().Select(r => r.EnumerateArray().Select(Trainer.Tests.Golden.Floats).ToList()).ToList();
        var embeddings = Golden.GetProperty("embeddings").EnumerateArray().Select(Trainer.Tests.Golden.Floats).ToList();
        using var model = PretrainedLoader.Load(Folder, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = PaddedBatch.Create(rows, padId: 2);
        var hidden = model.call(batch.InputIds, batch.AttentionMask);

        double max = 0;
        for (int b = 0; b < rows.Count; b++)
            for (int s = 0; s < rows[b].Length; s++)
                max = Math.Max(max, Trainer.Tests.Golden.MaxAbsDiff(hiddenGolden[b][s], hidden[b, s].data<float>().ToArray()));
        Assert.True(max <= 1e-5, $"max abs diff of the hidden state {max}");
        for (int b = 0; b < rows.Count; b++)
        {
            var pooled = nn.functional.normalize(hidden[b, rows[b].Length - 1], p: 2, dim: -1).data<float>().ToArray();
            Assert.True(Trainer.Tests.Golden.MaxAbsDiff(embeddings[b], pooled) <= 1e-5, $"row {b}");
        }
    }

    [Fact]
    public void The_onnx_export_carries_the_rescaled_tables_and_matches_the_model()
    {
        var rows = Golden.GetProperty("input_ids").EnumerateArray().Select(Trainer.Tests.Golden.Ints).ToArray();
        var folder = TestPaths.TempDir("llama3-onnx");
        string onnx;
        using (var weights = new MergedWeights(Folder, null)) onnx = ExportJob.WriteOnnx(weights, ScalarType.Float32, 17, folder, external: false, eosId: 2);
        var parity = OnnxVerifier.Verify(onnx, Folder, null, ParityRule.For(ScalarType.Float32), rows);
        Assert.True(parity.Passed, parity.ToString());
        Assert.True(parity.HiddenMaxAbs <= 1e-4, parity.ToString());
    }
}
