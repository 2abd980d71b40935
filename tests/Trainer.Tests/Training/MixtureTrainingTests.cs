using Trainer.Config;
using Trainer.Data;
using Trainer.Models;
using Trainer.Parallel;
using Trainer.Tests.Parallel;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary>
/// Training on two sources with same_source batches and 3 negatives per row (<see cref="MixtureFixture"/>): GradCache,
/// gradient checkpointing, two replicas and resume each equal the plain run, as they do with one negative.
/// </summary>
public class MixtureTrainingTests
{
    private static (float[] Losses, Dictionary<string, TorchSharp.torch.Tensor> Adapter) Train(params string[] overrides) =>
        DataParallelTests.Train([.. MixtureFixture.Overrides(), .. overrides]);

    [Fact]
    public void Start_up_lines_name_the_sources_and_count_the_negatives()
    {
        var log = new StringWriter();
        new TrainingRun(TrainingFixture.Config(TestPaths.TempDir("mix-log"), [.. MixtureFixture.Overrides(), "training.max_steps=1"]), new TrainOptions(), log).Run();
        var text = log.ToString();
        Assert.Contains("data: 28 rows, 6 steps per epoch, 1 steps", text);
        Assert.Contains("sources: claims 16 rows × weight 1 = 16 per epoch = 4 batches, own instruction; pairs 12 rows × weight 0.75 = 9 per epoch = 2 batches, own instruction, symmetric", text);
        Assert.Contains("contrastive batch: 4 queries per step, each scoring 4 positives + up to 12 negatives (= 16 candidates with 3 negatives per row); batches same_source;", text);
    }

    [Fact]
    public void Gradcache_equals_the_plain_run() =>
        Report("GradCache", DataParallelTests.AssertSame(Train(), Train("training.micro_batch_size=5")));

    [Fact]
    public void Gradient_checkpointing_equals_the_plain_run() =>
        Report("checkpointing", DataParallelTests.AssertSame(Train(), Train("model.gradient_checkpointing=true")));

    [Fact]
    public void Two_cpu_replicas_equal_the_plain_run()
    {
        var plain = Train();
        Report("replicas", DataParallelTests.AssertSame(plain, Train("training.devices=[cpu, cpu]")));
        var one = DataParallelTests.Train(MixtureFixture.Overrides(negatives: 1));
        Assert.NotEqual(one.Losses[0], plain.Losses[0]); // the extra negatives are in the loss
    }

    [Fact]
    public void Stop_and_resume_is_bitwise_identical_to_a_straight_run()
    {
        string straight = TestPaths.TempDir("mix-straight"), resumed = TestPaths.TempDir("mix-resumed");
        var a = ResumeTests.Train(straight, new TrainOptions(), [.. MixtureFixture.Overrides(), "training.max_steps=8"]); // into the second epoch
        ResumeTests.Train(resumed, new TrainOptions { StopAfterSteps = 4 }, [.. MixtureFixture.Overrides(), "training.max_steps=8"]);
        var b = ResumeTests.Train(resumed, new TrainOptions { Resume = true }, [.. MixtureFixture.Overrides(), "training.max_steps=8"]);
        Assert.Equal(4, b.FirstStep);
        Assert.Equal(ResumeTests.Losses(straight).Select(l => BitConverter.SingleToInt32Bits(l.Loss)), ResumeTests.Losses(resumed).Select(l => BitConverter.SingleToInt32Bits(l.Loss)));
        Assert.Equal(ResumeTests.Adapter(a.LastCheckpoint!), ResumeTests.Adapter(b.LastCheckpoint!));
    }

    /// <summary>Each of the three keys, and a source's weight, is refused on resume, naming the old and new values.</summary>
    [Theory]
    [InlineData("data.negatives_per_query=2", "data.negatives_per_query: 3 → 2")]
    [InlineData("data.batching=mixed", "data.batching: same_source → mixed")]
    public void Resume_refuses_a_changed_mixture_key(string change, string expected)
    {
        var dir = TestPaths.TempDir("mix-refuse");
        ResumeTests.Train(dir, new TrainOptions { StopAfterSteps = 3 }, MixtureFixture.Overrides());
        var e = Assert.Throws<ConfigException>(() => ResumeTests.Train(dir, new TrainOptions { Resume = true }, [.. MixtureFixture.Overrides(), change]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Resume_refuses_a_changed_source_weight()
    {
        var dir = TestPaths.TempDir("mix-weight");
        ResumeTests.Train(dir, new TrainOptions { StopAfterSteps = 3 }, MixtureFixture.Overrides());
        var changed = MixtureFixture.Overrides().Select(o => o.Replace("weight: 0.75", "weight: 0.5", StringComparison.Ordinal)).ToArray();
        var e = Assert.Throws<ConfigException>(() => ResumeTests.Train(dir, new TrainOptions { Resume = true }, changed));
        Assert.Contains("data.train: [{path: ", e.Message);
        Assert.Contains("weight: 0.75, symmetric: true}] → [{path: ", e.Message);
        Assert.Contains("weight: 0.5, symmetric: true}]", e.Message);
    }

    /// <summary>
    /// The first step's batch as the run builds it: one source, 3 negatives per row in row order, the source's
    /// instruction on the queries, and on a symmetric source's documents too.
    /// </summary>
    [Fact]
    public void The_batches_are_one_source_with_k_negatives_and_the_symmetric_instruction_on_documents()
    {
        var config = TrainingFixture.Config(TestPaths.TempDir("mix-batch"), MixtureFixture.Overrides());
        var data = TrainingDataReader.Read(config.Data.Sources, config.Data.DefaultInstruction, skipInvalid: false);
        Assert.Equal([16, 12], data.SourceSizes);
        Assert.Equal("Find the abstract that supports the claim", data.Examples[0].Instruction);
        Assert.True(data.Examples[16].Symmetric);
        var plan = new EpochPlan(data.SourceSizes, [1, 0.75], sameSource: true, 4, config.Training.Seed, shuffle: true);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        foreach (var rows in plan.Batches(0))
        {
            int source = plan.SourceOf(rows[0]);
            Assert.All(rows, r => Assert.Equal(source, plan.SourceOf(r)));
            var batch = ContrastiveBatch.Build(data.Examples, rows, config.Training.Seed, 0, tokenizer, 64, negativesPerQuery: 3);
            for (int i = 0; i < rows.Length; i++)
            {
                var example = data.Examples[rows[i]];
                int expected = example.Negatives.Count == 0 ? 0 : 3;
                Assert.Equal(expected, batch.RowNegatives[i].Length);
                var drawn = example.DrawNegatives(config.Training.Seed, 0, rows[i], 3);
                string? documentInstruction = source == 1 ? example.Instruction : null;
                for (int j = 0; j < expected; j++) Assert.Equal(tokenizer.Encode(drawn[j], documentInstruction, 64), batch.RowNegatives[i][j]);
                Assert.Equal(tokenizer.Encode(example.Positives[0], documentInstruction, 64), batch.Positives[i]);
            }
            Assert.Equal(rows.Sum(r => data.Examples[r].Negatives.Count == 0 ? 0 : 3), batch.Negatives.Count);
            Assert.Equal(tokenizer.Encode(data.Examples[rows[0]].Query, data.Examples[rows[0]].Instruction, 64), batch.Queries[0]);
        }
    }

    private static void Report(string what, (double Loss, double Adapter) diff) =>
        TestContext.Current.TestOutputHelper?.WriteLine($"{what} vs plain, same_source with 3 negatives per row: max loss diff {diff.Loss:G3}, adapter {diff.Adapter:G3}");
}
