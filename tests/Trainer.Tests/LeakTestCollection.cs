namespace Trainer.Tests;

/// <summary>
/// Leak tests count every live TorchSharp tensor in the process, so they run alone, never beside other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakTestCollection
{
    public const string Name = "Live tensor counts";
}
