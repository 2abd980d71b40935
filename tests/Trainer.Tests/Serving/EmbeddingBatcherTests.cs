using System.Diagnostics;
using Trainer.Serving;

namespace Trainer.Tests.Serving;

public class EmbeddingBatcherTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>A row of <paramref name="length"/> tokens whose first id is <paramref name="tag"/>.</summary>
    private static int[] Row(int tag, int length) => [tag, .. Enumerable.Repeat(7, length - 1)];

    [Fact]
    public async Task Batches_are_cut_first_come_first_served_at_the_token_budget_and_each_input_gets_its_own_vector()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 32, maxWait: TimeSpan.FromMilliseconds(200));
        int[] lengths = [3, 10, 2, 2, 16, 1];
        var vectors = await batcher.EmbedAsync(lengths.Select((n, i) => Row(100 + i, n)).ToList(), TestContext.Current.CancellationToken);

        // greedy, in order: [3, 10, 2] pads to 3 × 10 = 30 (one more 2 would be 40); [2, 16] = 32; [1]
        Assert.Equal([[3, 10, 2], [2, 16], [1]], engine.Batches.Select(b => b.Select(r => r.Length).ToArray()));
        Assert.All(engine.Batches, b => Assert.True(b.Length * b.Max(r => r.Length) <= 32));
        for (int i = 0; i < lengths.Length; i++) Assert.Equal(new float[] { 100 + i, lengths[i] }, vectors[i]);
        var stats = batcher.Stats;
        Assert.Equal((6L, 3L, 34L, 30L + 32 + 1, 3), (stats.Inputs, stats.Batches, stats.Tokens, stats.PaddedTokens, stats.LargestBatch));
    }

    [Fact]
    public async Task Inputs_queued_while_the_model_is_busy_run_together_in_the_next_batch()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.Zero);
        engine.Gate.Reset();
        var first = batcher.EmbedAsync([Row(1, 4)], TestContext.Current.CancellationToken);
        Assert.True(engine.WaitEntered(Long));
        var others = Enumerable.Range(2, 5).Select(i => batcher.EmbedAsync([Row(i, i)], TestContext.Current.CancellationToken)).ToList(); // five requests while the model is busy
        engine.Gate.Set();
        await first;
        var results = await Task.WhenAll(others);

        Assert.Equal([[1], [2, 3, 4, 5, 6]], engine.Batches.Select(b => b.Select(r => r[0]).ToArray()));
        for (int i = 0; i < 5; i++) Assert.Equal(new float[] { i + 2, i + 2 }, results[i][0]);
    }

    [Fact]
    public async Task A_lone_input_waits_max_wait_for_company_then_runs()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        var task = batcher.EmbedAsync([Row(1, 4)], TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var second = batcher.EmbedAsync([Row(2, 4)], TestContext.Current.CancellationToken); // joins: the first has waited less than 300 ms
        await Task.WhenAll(task, second);
        Assert.True(clock.ElapsedMilliseconds >= 290, $"ran after {clock.ElapsedMilliseconds} ms");
        Assert.Equal([[1, 2]], engine.Batches.Select(b => b.Select(r => r[0]).ToArray()));
    }

    [Fact]
    public async Task A_failing_batch_fails_its_own_inputs_only_and_the_worker_goes_on()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.Zero);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.EmbedAsync([Row(RecordingEngine.FailId, 3)], TestContext.Current.CancellationToken));
        Assert.Equal("the model failed", error.Message);
        var after = await batcher.EmbedAsync([Row(5, 3)], TestContext.Current.CancellationToken);
        Assert.Equal(new float[] { 5, 3 }, after[0]);
        Assert.Equal((2L, 1L), (batcher.Stats.Batches, batcher.Stats.FailedBatches));
    }

    [Fact]
    public async Task Dispose_embeds_what_is_queued_then_refuses_new_inputs()
    {
        using var engine = new RecordingEngine();
        var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.FromSeconds(20));
        var queued = batcher.EmbedAsync([Row(1, 4), Row(2, 5)], TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        batcher.Dispose(); // does not wait out the 20 s: closing sends the queued batch at once, and returns when it ran
        Assert.Single(engine.Batches);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"{clock.Elapsed}");
        Assert.Equal(new float[] { 2, 5 }, (await queued.WaitAsync(Long, TestContext.Current.CancellationToken))[1]);
        Assert.Throws<InvalidOperationException>(() => { _ = batcher.EmbedAsync([Row(3, 4)], TestContext.Current.CancellationToken); }); // refused at once, not a failed task
    }

    [Fact]
    public async Task Once_idle_after_work_the_worker_compacts_the_heap_once()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.Zero, idleCollect: TimeSpan.FromMilliseconds(100));
        await Task.Delay(400, TestContext.Current.CancellationToken);
        Assert.Equal(0, batcher.Stats.IdleCollections); // no work yet, nothing to give back
        await batcher.EmbedAsync([Row(1, 4)], TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        while (batcher.Stats.IdleCollections == 0 && clock.Elapsed < Long) await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Equal(1, batcher.Stats.IdleCollections);
        await Task.Delay(400, TestContext.Current.CancellationToken);
        Assert.Equal(1, batcher.Stats.IdleCollections); // once per burst, not every idle period
    }

    [Fact]
    public async Task A_cancelled_request_leaves_the_queue_and_the_worker_waits_for_the_next_one()
    {
        using var engine = new RecordingEngine();
        using var batcher = new EmbeddingBatcher(engine, maxBatchTokens: 1000, maxWait: TimeSpan.FromMilliseconds(1000));
        using var gone = new CancellationTokenSource();
        var cancelled = batcher.EmbedAsync([Row(1, 4), Row(2, 4)], gone.Token);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await gone.CancelAsync(); // while the worker waits max-wait for company
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal((0, 0L), (batcher.Stats.Queued, batcher.Stats.QueuedTokens));
        await Task.Delay(1200, TestContext.Current.CancellationToken); // past the cancelled inputs' max-wait
        var next = await batcher.EmbedAsync([Row(3, 5)], TestContext.Current.CancellationToken);

        Assert.Equal(new float[] { 3, 5 }, next[0]);
        Assert.Equal([[3]], engine.Batches.Select(b => b.Select(r => r[0]).ToArray()));
        var stats = batcher.Stats;
        Assert.Equal((1L, 1L, 2L, 0L), (stats.Batches, stats.CancelledRequests, stats.CancelledInputs, stats.IdleCollections));
    }
}
