using Trainer.Evaluation;
using static TorchSharp.torch;

namespace Trainer.Tests.Evaluation;

[Collection(LeakTestCollection.Name)]
public class ExactSearchLeakTests
{
    /// <summary>
    /// Every tensor a search makes is disposed when it is done with, not left to the finalizer: the live count after
    /// ten searches is compared without a garbage collection in between.
    /// </summary>
    [Fact]
    public void No_tensors_leak_across_searches()
    {
        string[] ids = Enumerable.Range(0, 50).Select(i => $"d{i}").ToArray();
        using var queries = randn(6, 8);
        using var corpus = randn(50, 8);
        static long Collected() { GC.Collect(); GC.WaitForPendingFinalizers(); return Tensor.TotalCount; }
        void Search()
        {
            using var search = new ExactSearch(queries, ids, topK: 7, blockSize: 16);
            for (int start = 0; start < 50; start += 9)
            {
                using var chunk = corpus.narrow(0, start, Math.Min(9, 50 - start));
                search.Add(chunk);
            }
            Assert.Equal(7, search.Results()[0].Count);
        }
        Search();
        long before = Collected();
        for (int i = 0; i < 10; i++) Search();
        Assert.Equal(before, Tensor.TotalCount);
    }
}
