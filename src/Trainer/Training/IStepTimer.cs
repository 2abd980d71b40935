using Trainer.Models;

namespace Trainer.Training;

/// <summary>
/// Hears where a training step's phases end, for <c>trainer benchmark train --breakdown</c>
/// (<see cref="Benchmarks.StepBreakdown"/>). A run calls it only when one is given in <see cref="TrainOptions.StepTimer"/>
/// (null by default, and then the step's code path is the one without it), on the training thread, with one replica.
/// Every call is a boundary: the time since the previous boundary belongs to the phase a <see cref="Lap"/> names, so the
/// host work between two phases counts to the later one. A timer may synchronise the device at a boundary; nothing it
/// does may change a result.
/// </summary>
public interface IStepTimer
{
    /// <summary>The model the run trains, once loaded and before the first step (a timer may hook its modules).</summary>
    void Attach(EmbeddingDecoder model);

    /// <summary>A step begins, before its batch is built: its first boundary.</summary>
    void StepStarted();

    /// <summary>The time since the previous boundary went to <paramref name="phase"/>.</summary>
    void Lap(StepPhase phase);

    /// <summary>The step is over: its optimizer step is done and the trainer's own step clock has stopped.</summary>
    void StepEnded();
}
