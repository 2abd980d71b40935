using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

public class TrainingStateTests
{
    [Fact]
    public void Round_trips_through_its_file()
    {
        var dir = TestPaths.TempDir("state");
        var state = new TrainingState
        {
            Step = 12,
            Epoch = 2,
            IndexInEpoch = 40,
            TotalSteps = 99,
            LearningRate = 3.5e-5,
            Seed = 7,
            DropoutRngStates = ["AAEC", "AwQF"],
            ConfigSha256 = "ABCD",
            DataSha256 = new Dictionary<string, string> { ["/data/train.jsonl"] = "0123abcd" },
            ElapsedSeconds = 1.25,
            BestCheckpoint = "checkpoint-8",
            BestMetric = 0.4375,
        };
        state.Save(dir);
        var read = TrainingState.Load(dir);
        Assert.Equal(state with { DropoutRngStates = read.DropoutRngStates, DataSha256 = read.DataSha256 }, read);
        Assert.Equal(state.DropoutRngStates, read.DropoutRngStates);
        Assert.Equal(state.DataSha256, read.DataSha256);
    }

    [Fact]
    public void Only_the_adapters_train()
    {
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: new LoraSettings(4, 8, 0.1, ["q_proj", "down_proj"]));
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        var expected = Enumerable.Range(0, 2).SelectMany(i => new[]
        {
            $"layers.{i}.self_attn.q_proj.lora_A.weight", $"layers.{i}.self_attn.q_proj.lora_B.weight",
            $"layers.{i}.mlp.down_proj.lora_A.weight", $"layers.{i}.mlp.down_proj.lora_B.weight",
        });
        Assert.Equal(expected.Order(), trainable.Order());
        Assert.Equal(trainable.Count, model.TrainableParameters().Count());
    }
}
