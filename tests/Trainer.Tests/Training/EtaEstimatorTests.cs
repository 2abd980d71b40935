using Trainer.Training;

namespace Trainer.Tests.Training;

public class EtaEstimatorTests
{
    [Fact]
    public void The_first_step_is_left_out_and_there_is_no_estimate_until_five_step_times()
    {
        var eta = new EtaEstimator(window: 20, minSteps: 5);
        eta.StepEnded(60); // step 1: a minute of warm-up
        Assert.Null(eta.Remaining(299));
        for (int step = 2; step <= 5; step++)
        {
            eta.StepEnded(60 + (step - 1) * 0.5);
            Assert.Null(eta.Remaining(300 - step));
        }
        eta.StepEnded(62.5); // step 6: five step times of 0.5 s
        Assert.Equal(TimeSpan.FromSeconds(147), eta.Remaining(294));
    }

    [Fact]
    public void The_estimate_follows_the_last_twenty_steps()
    {
        var eta = new EtaEstimator(window: 20, minSteps: 5);
        double t = 0;
        eta.StepEnded(t);
        for (int i = 0; i < 20; i++) eta.StepEnded(t += 1);
        Assert.Equal(TimeSpan.FromSeconds(100), eta.Remaining(100));
        for (int i = 0; i < 10; i++) eta.StepEnded(t += 3);
        Assert.Equal(TimeSpan.FromSeconds(200), eta.Remaining(100)); // (10 × 1 s + 10 × 3 s) / 20
        for (int i = 0; i < 10; i++) eta.StepEnded(t += 3);
        Assert.Equal(20, eta.Count);
        Assert.Equal(TimeSpan.FromSeconds(300), eta.Remaining(100)); // the 1 s steps have left the window
        Assert.Equal(TimeSpan.Zero, eta.Remaining(0));
    }
}
