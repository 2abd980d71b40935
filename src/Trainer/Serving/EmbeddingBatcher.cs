using System.Diagnostics;

namespace Trainer.Serving;

/// <summary>
/// Dynamic batching in front of one <see cref="IEmbeddingEngine"/>: requests enqueue their inputs (already tokenized)
/// from any thread, and one worker thread takes them first come, first served, as batches of at most
/// <c>maxBatchTokens</c> padded tokens (inputs × the longest one). A batch leaves when the next input would not fit, or
/// when its first input has waited <c>maxWait</c> since it was queued (time spent waiting for a busy model counts).
/// A request's inputs may be split between batches; each gets its own vector back, which does not depend on the batch
/// it ran in (padding is masked). A model error fails the inputs of that batch only: the worker goes on.
/// A request whose caller goes away takes its queued inputs back out (<see cref="EmbedAsync"/>'s cancellation token).
/// <see cref="Dispose"/> stops taking inputs, embeds those already queued, and ends the worker.
/// </summary>
public sealed class EmbeddingBatcher : IDisposable
{
    private sealed record Pending(int[] Row, long EnqueuedAt, TaskCompletionSource<float[]> Result);

    private readonly IEmbeddingEngine _engine;
    private readonly int _maxBatchTokens;
    private readonly long _maxWaitTicks;
    private readonly long _maxQueuedTokens;
    private readonly TimeSpan? _idleCollect;
    private readonly Queue<Pending> _queue = new();
    private readonly object _lock = new(); // a Monitor: the worker waits on it
    private readonly Thread _worker;
    private bool _closed, _draining, _workedSinceCollect;
    private long _queuedTokens, _idleCollections;
    private long _inputs, _batches, _tokens, _paddedTokens, _queueTicks, _inferenceTicks, _failedBatches, _cancelledInputs, _cancelledRequests;
    private int _largestBatch;

    /// <param name="maxQueuedTokens">Tokens queued at once; past it <see cref="EmbedAsync"/> throws <see cref="QueueFullException"/>.</param>
    /// <param name="idleCollect">When the queue has stayed empty this long after some work, the worker runs one full,
    /// compacting garbage collection (between model calls, never inside one), so that the memory of a burst goes back to
    /// the system; null: never.</param>
    public EmbeddingBatcher(IEmbeddingEngine engine, int maxBatchTokens, TimeSpan maxWait, long maxQueuedTokens = long.MaxValue, TimeSpan? idleCollect = null)
    {
        if (maxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchTokens), maxBatchTokens, "must be at least 1");
        (_engine, _maxBatchTokens, _maxWaitTicks) = (engine, maxBatchTokens, (long)(maxWait.TotalSeconds * Stopwatch.Frequency));
        (_maxQueuedTokens, _idleCollect) = (maxQueuedTokens, idleCollect);
        _worker = new Thread(Work) { Name = "embedding-batcher", IsBackground = true };
        _worker.Start();
    }

    public BatcherStats Stats
    {
        get
        {
            lock (_lock)
            {
                double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
                return new BatcherStats(_inputs, _batches, _tokens, _paddedTokens, _largestBatch, _queue.Count, Seconds(_queueTicks),
                    Seconds(_inferenceTicks), _failedBatches, _cancelledRequests, _cancelledInputs, _queuedTokens, _idleCollections);
            }
        }
    }

    /// <summary>Queues the rows; the task completes with their vectors in order, or fails with the model's error. When
    /// <paramref name="cancellationToken"/> fires (the client went away), the rows still queued leave the queue unembedded
    /// and the task is cancelled; a batch already running finishes.</summary>
    /// <exception cref="InvalidOperationException">The batcher is shutting down.</exception>
    public Task<float[][]> EmbedAsync(IReadOnlyList<int[]> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
            if (row.Length == 0 || row.Length > _maxBatchTokens)
                throw new ArgumentException($"A row of {row.Length} tokens cannot be batched (1 to {_maxBatchTokens}).", nameof(rows));
        var results = rows.Select(_ => new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        long tokens = rows.Sum(r => (long)r.Length);
        lock (_lock)
        {
            if (_closed) throw new InvalidOperationException("The server is shutting down.");
            if (_queuedTokens + tokens > _maxQueuedTokens) throw new QueueFullException(tokens, _queuedTokens, _maxQueuedTokens);
            _queuedTokens += tokens;
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < rows.Count; i++) _queue.Enqueue(new Pending(rows[i], now, results[i]));
            Monitor.PulseAll(_lock);
        }
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => Cancel(results));
            var all = Task.WhenAll(results.Select(r => r.Task));
            all.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
            return all;
        }
        return Task.WhenAll(results.Select(r => r.Task));
    }

    /// <summary>Takes a request's rows that are still queued out of the queue and cancels them (those in a running batch finish).</summary>
    private void Cancel(TaskCompletionSource<float[]>[] results)
    {
        lock (_lock)
        {
            var mine = results.ToHashSet();
            int before = _queue.Count;
            var kept = _queue.Where(p => !mine.Contains(p.Result)).ToList();
            if (kept.Count == before) return;
            _queuedTokens -= _queue.Where(p => mine.Contains(p.Result)).Sum(p => (long)p.Row.Length);
            _cancelledInputs += before - kept.Count;
            _cancelledRequests++;
            _queue.Clear();
            foreach (var p in kept) _queue.Enqueue(p);
            foreach (var r in results) r.TrySetCanceled();
            Monitor.PulseAll(_lock);
        }
    }

    private void Work()
    {
        while (Next() is { } batch)
        {
            if (batch.Count == 0) Collect();
            else Run(batch);
        }
    }

    /// <summary>The next batch, once it is full or its first input has waited long enough; empty when it is time for the
    /// idle collection; null when closed and drained.</summary>
    private List<Pending>? Next()
    {
        lock (_lock)
        {
            while (true)
            {
                if (_queue.Count == 0)
                {
                    if (_closed) return null;
                    if (_workedSinceCollect && _idleCollect is { } idle)
                    {
                        if (!Monitor.Wait(_lock, idle) && _queue.Count == 0 && !_closed)
                        {
                            _workedSinceCollect = false;
                            return [];
                        }
                    }
                    else
                    {
                        Monitor.Wait(_lock);
                    }
                    continue;
                }
                long left = _queue.Peek().EnqueuedAt + _maxWaitTicks - Stopwatch.GetTimestamp();
                if (_closed || _draining || Fitting() < _queue.Count || left <= 0) break;
                Monitor.Wait(_lock, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                // then look again: the queue may have grown, or lost a cancelled request's inputs
            }
            int count = Fitting();
            var batch = new List<Pending>(count);
            for (int i = 0; i < count; i++) batch.Add(_queue.Dequeue());
            _queuedTokens -= batch.Sum(p => (long)p.Row.Length);
            return batch;
        }
    }

    /// <summary>How many inputs from the front of the queue fit in one batch (at least one).</summary>
    private int Fitting()
    {
        int count = 0, longest = 0;
        foreach (var p in _queue)
        {
            int width = Math.Max(longest, p.Row.Length);
            if (count > 0 && (long)width * (count + 1) > _maxBatchTokens) break;
            (count, longest) = (count + 1, width);
        }
        return count;
    }

    private void Run(List<Pending> batch)
    {
        long start = Stopwatch.GetTimestamp();
        float[][]? vectors = null;
        Exception? error = null;
        try
        {
            vectors = _engine.Embed(batch.Select(p => p.Row).ToList());
            if (vectors.Length != batch.Count) throw new InvalidOperationException($"The engine returned {vectors.Length} vectors for {batch.Count} inputs.");
        }
        catch (Exception e)
        {
            error = e;
        }
        long end = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            _batches++;
            _inputs += batch.Count;
            _tokens += batch.Sum(p => (long)p.Row.Length);
            _paddedTokens += (long)batch.Count * batch.Max(p => p.Row.Length);
            _largestBatch = Math.Max(_largestBatch, batch.Count);
            _queueTicks += batch.Sum(p => start - p.EnqueuedAt);
            _inferenceTicks += end - start;
            if (error is not null) _failedBatches++;
            _workedSinceCollect = true;
        }
        for (int i = 0; i < batch.Count; i++)
        {
            if (error is null) batch[i].Result.TrySetResult(vectors![i]); // Try: its request may have been cancelled meanwhile
            else batch[i].Result.TrySetException(error);
        }
    }

    private void Collect()
    {
        MemoryRelease.Run();
        lock (_lock) _idleCollections++;
    }

    /// <summary>From now on batches run as soon as the model is free, without waiting for company (shutdown: the requests
    /// in flight must be answered before the host's time-out, however long <c>maxWait</c> is). Inputs are still taken.</summary>
    public void Drain()
    {
        lock (_lock)
        {
            _draining = true;
            Monitor.PulseAll(_lock);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
        _worker.Join();
    }
}
