namespace Trainer.Serving;

/// <summary><see cref="EmbeddingBatcher.EmbedAsync"/> refused a request: its tokens would take the queue past its limit.</summary>
public sealed class QueueFullException(long tokens, long queued, long limit)
    : Exception($"{tokens} tokens would not fit in the queue: {queued} are queued already, and the limit is {limit}.")
{
    public long Tokens { get; } = tokens;

    public long Queued { get; } = queued;

    public long Limit { get; } = limit;
}
