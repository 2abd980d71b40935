using System.Text.Json;
using Trainer.Data;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

public class LoggedLossTests
{
    [Fact]
    public void Logged_loss_of_step_one_is_the_loss_of_the_first_batch_under_the_seeded_initial_adapter()
    {
        var dir = TestPaths.TempDir("logged");
        var config = TrainingFixture.Config(dir, "lora.dropout=0", "training.max_steps=1");
        new TrainingRun(config, new TrainOptions(), TextWriter.Null).Run();
        var logged = JsonDocument.Parse(File.ReadLines(Path.Combine(dir, MetricsLog.FileName)).First()).RootElement.GetProperty("loss").GetDouble();

        // Recompute independently: the seeded PEFT init, epoch 0's shuffled order, the first 4 rows.
        var examples = TrainingDataReader.Read(config.Data.Train, config.Data.DefaultInstruction, false).Examples;
        var rows = EpochOrder.For(examples.Count, config.Training.Seed, 0, shuffle: true)[..4];
        var batch = ContrastiveBatch.Build(examples, rows, config.Training.Seed, 0, EmbeddingTokenizer.Load(TestPaths.TinyMistral), 24);
        Assert.Equal(rows.Count(r => examples[r].Negatives.Count > 0), batch.Negatives.Count);
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: config.Lora.ToSettings());
        using (var generator = new Generator((ulong)config.Training.Seed))
            foreach (var (_, adapter) in model.Adapters()) adapter.ResetAdapter(generator);
        using var scope = NewDisposeScope();
        Tensor Embed(IReadOnlyList<int[]> rows) => EmbeddingPass.Embed(model, rows);
        var loss = InfoNceLoss.Compute(Embed(batch.Queries), Embed(batch.Positives), batch.Negatives.Count > 0 ? Embed(batch.Negatives) : null, 0.02);
        Assert.Equal(loss.item<float>(), logged, 1e-5);
    }
}
