using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

/// <summary>
/// <see cref="Trainer.Training.AdamW"/> (Scalars held) must be TorchSharp's AdamW with only the Scalars' lifetimes changed: the same
/// parameters after every step (weight decay on, the learning rate changed between steps, a parameter without a
/// gradient left alone), and the same bytes in the saved state, which either optimizer loads.
/// </summary>
public class AdamWTests
{
    private static List<Parameter> Parameters(Generator random) =>
        [new Parameter(randn([16, 8], generator: random)), new Parameter(randn([8], generator: random)), new Parameter(randn([4, 4], generator: random))];

    [Fact]
    public void Steps_and_saved_state_equal_TorchSharp_AdamW_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        using var random = new Generator(3);
        var theirs = Parameters(random);
        var ours = theirs.Select(p => new Parameter(p.detach().clone())).ToList();
        using var reference = new TorchSharp.Modules.AdamW(theirs, 1e-2, 0.9, 0.95, 1e-6, 0.1, false, false);
        using var held = new Trainer.Training.AdamW(ours, 1e-2, 0.9, 0.95, 1e-6, 0.1);

        for (int step = 1; step <= 6; step++)
        {
            double lr = 1e-2 / step;
            foreach (var group in reference.ParamGroups) group.LearningRate = lr;
            foreach (var group in held.ParamGroups) group.LearningRate = lr;
            for (int i = 0; i < theirs.Count; i++)
            {
                if (i == 2 && step % 2 == 0) { theirs[i].grad = null; ours[i].grad = null; continue; } // no gradient: no update
                var grad = randn(theirs[i].shape, generator: random);
                theirs[i].grad = grad.clone();
                ours[i].grad = grad.clone();
            }
            reference.step();
            held.step();
            for (int i = 0; i < theirs.Count; i++)
                Assert.True(theirs[i].eq(ours[i]).all().item<bool>(), $"parameter {i} after step {step}");
        }
        Assert.False(theirs[0].eq(Parameters(new Generator(3))[0]).all().item<bool>()); // the steps did move the parameters

        var dir = TestPaths.TempDir("adamw-state");
        string theirsFile = Path.Combine(dir, "theirs.bin"), oursFile = Path.Combine(dir, "ours.bin");
        reference.save_state_dict(theirsFile);
        held.save_state_dict(oursFile);
        Assert.Equal(File.ReadAllBytes(theirsFile), File.ReadAllBytes(oursFile));

        // A state saved by TorchSharp's AdamW (every checkpoint so far) continues the same in ours.
        var resumed = theirs.Select(p => new Parameter(p.detach().clone())).ToList();
        using var continued = new Trainer.Training.AdamW(resumed, 1e-2, 0.9, 0.95, 1e-6, 0.1);
        continued.load_state_dict(theirsFile);
        foreach (var group in continued.ParamGroups) group.LearningRate = 1e-3;
        foreach (var group in reference.ParamGroups) group.LearningRate = 1e-3;
        for (int i = 0; i < theirs.Count; i++)
        {
            var grad = randn(theirs[i].shape, generator: random);
            theirs[i].grad = grad.clone();
            resumed[i].grad = grad.clone();
        }
        reference.step();
        continued.step();
        for (int i = 0; i < theirs.Count; i++)
            Assert.True(theirs[i].eq(resumed[i]).all().item<bool>(), $"parameter {i} after resuming");
    }
}
