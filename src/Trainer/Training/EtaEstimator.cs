namespace Trainer.Training;

/// <summary>
/// The time a run has left, from a moving window of its most recent step times (the wall time between the ends of
/// consecutive steps, so batch building, logging and checkpoints count). A run's first step is never in the window:
/// it carries the warm-up (first allocations, thread pools), which once made step 1 predict 10:30 for a 93 s run.
/// Until the window holds <paramref name="minSteps"/> step times there is no estimate.
/// </summary>
public sealed class EtaEstimator(int window = 20, int minSteps = 5)
{
    private readonly Queue<double> _recent = new();
    private double? _lastEnd;

    /// <summary>How many step times the window holds.</summary>
    public int Count => _recent.Count;

    /// <summary>Records that a step ended at <paramref name="elapsedSeconds"/> on the run's clock.</summary>
    public void StepEnded(double elapsedSeconds)
    {
        if (_lastEnd is double last)
        {
            _recent.Enqueue(elapsedSeconds - last);
            if (_recent.Count > window) _recent.Dequeue();
        }
        _lastEnd = elapsedSeconds;
    }

    /// <summary><paramref name="stepsLeft"/> × the window's mean step time, or null while the window is too short to tell.</summary>
    public TimeSpan? Remaining(int stepsLeft) =>
        _recent.Count < Math.Min(minSteps, window) ? null : TimeSpan.FromSeconds(Math.Max(0, stepsLeft) * _recent.Average());
}
