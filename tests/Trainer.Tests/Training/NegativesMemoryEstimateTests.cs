using Trainer.Config;
using Trainer.Models;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary><c>--dry-run</c> counts k negatives per row: 2 + k sequences per row, in the activations and in GradCache's cache.</summary>
public class NegativesMemoryEstimateTests
{
    [Fact]
    public void The_estimate_counts_two_plus_k_sequences_per_row()
    {
        var path = Path.Combine(TestPaths.RepoRoot, "configs", "e5-mixture.yaml");
        var model = ModelFamilies.Load(Path.Combine(ConfigLoader.Load(path).Model.Path, "config.json"));
        var one = MemoryEstimate.For(ConfigLoader.Load(path), model);
        var three = MemoryEstimate.For(ConfigLoader.Load(path, ["data.negatives_per_query=3"]), model);
        Assert.Equal((256, 3 * 256L), (one.RowsPerDevice, one.SequencesPerDevice));
        Assert.Equal((256, 5 * 256L), (three.RowsPerDevice, three.SequencesPerDevice));
        Assert.Equal(one.ActivationsGradCache, three.ActivationsGradCache);     // a micro-batch is 32 sequences either way
        Assert.Equal(one.WeightBytes, three.WeightBytes);
        Assert.True(three.ActivationsPlain > 1.6 * one.ActivationsPlain);       // 5/3 of the sequences, all at max_length
        Assert.True(three.EmbeddingCacheBytes > one.EmbeddingCacheBytes);
        Assert.Contains("per device 256 rows = 1280 sequences (3 negative(s) per row)", three.Table());
    }
}
