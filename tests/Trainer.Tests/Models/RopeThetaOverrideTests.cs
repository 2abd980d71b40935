using System.Text.Json.Nodes;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Modules;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>
/// <c>--rope-theta</c> (<see cref="PretrainedLoader.Load"/>'s ropeTheta, <see cref="ModelFamily.WithRopeTheta"/>): a model
/// loaded with θ replaced is the model whose config.json says that θ, and not the model's own; and RoPE runs past
/// max_position_embeddings with tables computed for the length given.
/// </summary>
public class RopeThetaOverrideTests
{
    private static readonly int[] Row = [1, 415, 2936, 9060, 285, 1142, 28723, 754, 264, 17898, 5509, 395, 5599, 1259, 28723, 415, 6183, 349, 5344, 2];

    [Fact]
    public void Replacing_rope_theta_at_load_equals_a_config_that_says_it_and_changes_the_embeddings()
    {
        // a copy of tiny-mistral whose config.json has rope_theta 100000
        var edited = TestPaths.TempDir("rope-theta");
        File.Copy(Path.Combine(TestPaths.TinyMistral, "model.safetensors"), Path.Combine(edited, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyMistral, "config.json")))!.AsObject();
        Assert.Equal(10000.0, (double)config["rope_theta"]!);
        config["rope_theta"] = 100000.0;
        File.WriteAllText(Path.Combine(edited, "config.json"), config.ToJsonString());

        using var own = AdaptedModel.Load(TestPaths.TinyMistral, null, ScalarType.Float32, CPU);
        using var raised = AdaptedModel.Load(TestPaths.TinyMistral, null, ScalarType.Float32, CPU, ropeTheta: 1e5);
        using var fromConfig = AdaptedModel.Load(edited, null, ScalarType.Float32, CPU);
        Assert.Equal(10000.0, own.Family.Config.RopeTheta);
        Assert.Equal(100000.0, raised.Family.Config.RopeTheta);

        float[] a = Embed(own), b = Embed(raised), c = Embed(fromConfig);
        Assert.Equal(c, b); // bitwise: the override is exactly the config's θ
        double change = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(change > 1e-3, $"θ 1e4 and 1e5 gave embeddings within {change}");
    }

    [Fact]
    public void A_rope_theta_that_is_not_a_positive_finite_number_is_refused()
    {
        foreach (var theta in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
            Assert.Throws<ArgumentOutOfRangeException>(() => AdaptedModel.Load(TestPaths.TinyMistral, null, ScalarType.Float32, CPU, ropeTheta: theta).Dispose());
    }

    /// <summary>
    /// stories260k says max_position_embeddings 512. Run on 1024 tokens, the first 512 positions' hidden states equal
    /// those of the 512-token prefix alone (causal attention; the tables extend, they do not wrap), and the table's row
    /// 1000 is cos/sin(1000 · θ^(−2i/Dh)) computed here in double.
    /// </summary>
    [Fact]
    public void Lengths_past_max_position_embeddings_run_with_tables_for_the_whole_length()
    {
        using var model = AdaptedModel.Load(TestPaths.Stories260k, null, ScalarType.Float32, CPU, ropeTheta: 1e5);
        Assert.Equal(512, model.Family.Config.MaxPositionEmbeddings);
        var random = new Random(3);
        var ids = Enumerable.Range(0, 1024).Select(i => i == 0 ? 1 : random.Next(3, 512)).ToArray();
        using var scope = NewDisposeScope();
        using var inference = new InferenceScope(model);
        var full = model.call(tensor(ids.Select(i => (long)i).ToArray(), [1, 1024]), ones([1, 1024], ScalarType.Int64));
        var prefix = model.call(tensor(ids[..512].Select(i => (long)i).ToArray(), [1, 512]), ones([1, 512], ScalarType.Int64));
        Assert.True(full.isfinite().all().item<bool>());
        Assert.True(full.narrow(1, 0, 512).allclose(prefix, rtol: 1e-4, atol: 1e-5));
        Assert.False(full.narrow(1, 512, 512).abs().max().item<float>() == 0);

        var (cos, sin) = RotaryEmbedding.Tables(1024, 8, 1e5, ScalarType.Float32, CPU);
        var cosRow = cos[1000].data<float>().ToArray();
        var sinRow = sin[1000].data<float>().ToArray();
        for (int i = 0; i < 8; i++)
        {
            double angle = 1000 * Math.Pow(1e5, -2.0 * (i % 4) / 8);
            Assert.Equal(Math.Cos(angle), cosRow[i], 1e-3);
            Assert.Equal(Math.Sin(angle), sinRow[i], 1e-3);
        }
    }

    private static float[] Embed(EmbeddingDecoder model) => new TextEmbedder(model).Embed([Row])[0];
}
