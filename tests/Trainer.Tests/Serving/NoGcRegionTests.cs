using System.Runtime;
using Trainer.Serving;

namespace Trainer.Tests.Serving;

/// <summary>
/// Forward passes of the torch engine run where no garbage collection can start (see <see cref="NoGcRegion"/> for the
/// TorchSharp race it closes); threads inside at once share one region, which ends with the last of them.
/// </summary>
[Collection(GcRegionCollection.Name)]
public class NoGcRegionTests
{
    [Fact]
    public async Task Code_inside_runs_in_a_region_that_overlapping_callers_share_and_the_last_one_ends()
    {
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        using var firstInside = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        GCLatencyMode firstSaw = default, secondSaw = default, firstSawAfterSecondLeft = default;
        var first = Task.Run(() => NoGcRegion.Run(() =>
        {
            firstSaw = GCSettings.LatencyMode;
            firstInside.Set();
            Assert.True(secondDone.Wait(TimeSpan.FromMinutes(1)));
            firstSawAfterSecondLeft = GCSettings.LatencyMode; // the second caller left; the first is still inside
            return 1;
        }), TestContext.Current.CancellationToken);
        Assert.True(firstInside.Wait(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
        int gen0 = GC.CollectionCount(0);
        Assert.Equal(2, NoGcRegion.Run(() =>
        {
            secondSaw = GCSettings.LatencyMode;
            var garbage = Enumerable.Range(0, 1000).Select(i => new byte[1000]).ToList(); // 1 MB: well inside the budget
            return garbage.Count > 0 ? 2 : 0;
        }));
        Assert.Equal(gen0, GC.CollectionCount(0)); // the second caller joined the first one's region: no collection
        secondDone.Set();
        Assert.Equal(1, await first);

        Assert.Equal((GCLatencyMode.NoGCRegion, GCLatencyMode.NoGCRegion, GCLatencyMode.NoGCRegion), (firstSaw, secondSaw, firstSawAfterSecondLeft));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void An_exception_inside_ends_the_region_and_propagates()
    {
        var error = Assert.Throws<InvalidDataException>(() => NoGcRegion.Run<int>(() => throw new InvalidDataException("inside")));
        Assert.Equal("inside", error.Message);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Equal(3, NoGcRegion.Run(() => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion ? 3 : 0)); // and the next one starts afresh
    }
}
