namespace Trainer.Training;

/// <summary>How a <c>trainer train</c> invocation starts: fresh, resumed, or over an existing output_dir.</summary>
public sealed record TrainOptions
{
    /// <summary>Resume from the newest valid checkpoint in output_dir.</summary>
    public bool Resume { get; init; }

    /// <summary>Resume from this checkpoint folder (implies <see cref="Resume"/>).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Start fresh even though output_dir is not empty (its contents are deleted).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Stop (as if killed) after this many steps of this invocation; for tests of resume.</summary>
    public int? StopAfterSteps { get; init; }

    /// <summary>Told where each step's phases end (<c>trainer benchmark train --breakdown</c>); null: the step runs untimed.</summary>
    public IStepTimer? StepTimer { get; init; }
}

/// <summary>What a run did: its first and last logged losses and where it stopped.</summary>
public sealed record TrainSummary(int FirstStep, int LastStep, double? FirstLoss, double? LastLoss, double Seconds, string? LastCheckpoint);
