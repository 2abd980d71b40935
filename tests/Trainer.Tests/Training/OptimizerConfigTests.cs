using Trainer.Models.Lora;
using Trainer.Training;

namespace Trainer.Tests.Training;

/// <summary>training.adam_beta1/adam_beta2/adam_epsilon reach the optimizer.</summary>
public class OptimizerConfigTests
{
    private static byte[] AdapterAfterTwoSteps(params string[] overrides)
    {
        var dir = TestPaths.TempDir("adam");
        var summary = new TrainingRun(TrainingFixture.Config(dir, ["training.max_steps=2", "checkpoint.every_steps=2", .. overrides]), new TrainOptions(), TextWriter.Null).Run();
        return File.ReadAllBytes(Path.Combine(summary.LastCheckpoint!, PeftAdapter.WeightsFile));
    }

    [Fact]
    public void Betas_and_epsilon_change_the_update_and_their_defaults_are_the_old_literals()
    {
        var defaults = AdapterAfterTwoSteps();
        Assert.Equal(defaults, AdapterAfterTwoSteps("training.adam_beta1=0.9", "training.adam_beta2=0.999", "training.adam_epsilon=1.0e-8"));
        // Adam's first step is the same for every beta (bias correction); the second is not.
        Assert.NotEqual(defaults, AdapterAfterTwoSteps("training.adam_beta1=0.5"));
        Assert.NotEqual(defaults, AdapterAfterTwoSteps("training.adam_beta2=0.5"));
        Assert.NotEqual(defaults, AdapterAfterTwoSteps("training.adam_epsilon=0.1"));
    }
}
