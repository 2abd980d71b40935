namespace Trainer.Tests.Serving;

/// <summary>
/// The serving tests share one trained checkpoint and its export (<see cref="ServingFixture"/>) and run one after
/// another: they count model calls and time requests, which other serving tests would disturb.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServingCollection : ICollectionFixture<ServingFixture>
{
    public const string Name = "Serving";
}
