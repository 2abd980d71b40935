namespace Trainer.Tests.Serving;

/// <summary>
/// Tests of <see cref="Trainer.Serving.NoGcRegion"/> watch the process-wide garbage collector, which any other test
/// could trigger (the export's verification collects), so they run alone, never beside other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcRegionCollection
{
    public const string Name = "No-GC regions";
}
