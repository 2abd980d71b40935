using Trainer.Training;

namespace Trainer.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Linear_warms_up_then_decays_to_zero_at_the_last_step()
    {
        var s = new LearningRateSchedule("linear", 1.0, 4, 12);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1.0, 0.875], Enumerable.Range(0, 6).Select(s.At));
        Assert.Equal(0.125, s.At(11), 12);
        Assert.Equal(0.0, s.At(12));
    }

    [Fact]
    public void Cosine_and_constant()
    {
        var cosine = new LearningRateSchedule("cosine", 2.0, 0, 10);
        Assert.Equal(2.0, cosine.At(0), 12);
        Assert.Equal(1.0, cosine.At(5), 12);
        Assert.Equal(0.0, cosine.At(10), 12);
        var constant = new LearningRateSchedule("constant", 3.0, 2, 10);
        Assert.Equal([0, 1.5, 3, 3, 3], Enumerable.Range(0, 5).Select(constant.At));
    }
}
