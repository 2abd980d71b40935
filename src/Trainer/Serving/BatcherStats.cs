namespace Trainer.Serving;

/// <summary>
/// What <see cref="EmbeddingBatcher"/> has done so far: inputs embedded, model calls (batches) they took, tokens (real
/// and padded), the largest batch, and the time inputs waited in the queue and the model ran. Failed batches count too.
/// QueuedTokens: tokens waiting for the model. IdleCollections: compacting collections run once the server fell idle after work.
/// Cancelled: requests whose caller gave up while some of their inputs were still queued, and those inputs (never run).
/// </summary>
public sealed record BatcherStats(long Inputs, long Batches, long Tokens, long PaddedTokens, int LargestBatch, int Queued,
    double QueueSeconds, double InferenceSeconds, long FailedBatches, long CancelledRequests, long CancelledInputs, long QueuedTokens, long IdleCollections);
