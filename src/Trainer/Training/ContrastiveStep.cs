using Trainer.Losses;
using Trainer.Models;
using Trainer.Parallel;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// One step's loss and adapter gradients over the global batch. The batch is split into contiguous row shards, one
/// per replica; every replica embeds its shard, and the embeddings are gathered on the primary device so that each
/// query scores all positives and all negatives of the global batch (not just its replica's). Gradients end up
/// summed in the primary replica.
///
/// A replica embeds its rows group by group (<see cref="ContrastiveBatch.PaddingGroups"/>: the queries, then the
/// documents, each padded to its own longest row, unless both are as long), in that order, so the dropout generator
/// draws the queries' masks first.
///
/// With <c>microBatchSize</c> the step is a cached contrastive batch (GradCache):
/// 1. each replica embeds its rows micro-batch by micro-batch without a graph (recording the dropout RNG state),
///    group after group, so no micro-batch mixes queries padded to the documents' length;
/// 2. the loss is computed on the full gathered batch, and its gradient with respect to the embeddings;
/// 3. each replica recomputes each micro-batch with a graph (RNG replayed) and back-propagates the cached
///    embedding gradients. Activation memory then scales with the micro-batch, not the batch.
///
/// With a <paramref name="communicator"/> of several processes (docs/multi-node.md), the global batch is split over
/// every process's replicas in rank order, the embeddings of the other ranks' replicas are all-gathered before the
/// loss (so every rank computes the same loss over the global batch and back-propagates its own slice), and the
/// gradients are summed over the ranks after the step (<see cref="ProcessGroup"/>).
///
/// With a <paramref name="timer"/> (one replica; <c>trainer benchmark train --breakdown</c>), the step tells it where each
/// phase ends (<see cref="StepPhase"/>); without one, nothing else differs.
///
/// The loss (<see cref="InfoNceLoss"/> with <paramref name="lossOptions"/>: false-negative filter, Matryoshka) is
/// always taken on the gathered full embeddings, so GradCache's cached embedding gradient is that of the whole loss
/// (for Matryoshka, the sum over the dims).
/// </summary>
public sealed class ContrastiveStep(ReplicaSet replicas, int? microBatchSize, InfoNceOptions lossOptions, IStepTimer? timer = null, ICommunicator? communicator = null)
{
    private readonly ProcessGroup _group = new(communicator ?? SingleProcess.Instance, replicas.Count);

    public ContrastiveStep(ReplicaSet replicas, int? microBatchSize, double temperature, IStepTimer? timer = null, ICommunicator? communicator = null)
        : this(replicas, microBatchSize, new InfoNceOptions(temperature), timer, communicator)
    {
    }

    /// <summary>
    /// Runs the step and returns its loss: a float32 scalar on the primary device, without a graph, in the caller's
    /// dispose scope (if any). Reading it is left to the caller (once per step, with the gradient norm). Every
    /// other tensor the step makes belongs to one <see cref="TensorOwner"/> and is disposed when the step returns or
    /// throws, and so are the gradients the replicas' recomputed layers handed to autograd; only the adapters'
    /// gradients (summed into the primary) outlive it.
    /// </summary>
    public Tensor Run(ContrastiveBatch batch) => Run(batch, out _);

    /// <summary>
    /// <see cref="Run(ContrastiveBatch)"/>, and how many candidates the false-negative filter masked in all
    /// (<paramref name="masked"/>: a float32 scalar on the primary device, 0 with the filter off; read with the loss).
    /// </summary>
    public Tensor Run(ContrastiveBatch batch, out Tensor masked)
    {
        var shards = Shards(batch);
        using var step = new TensorOwner();
        try
        {
            var (value, count) = microBatchSize is int m ? RunCached(shards, m, step) : RunDirect(shards, step);
            replicas.ReduceGradients();
            _group.SumGradients(replicas.Primary.TrainableParameters());
            masked = count;
            return value;
        }
        finally
        {
            foreach (var model in replicas.Models) model.RecomputedGradients.Release();
        }
    }

    /// <summary>Forward with graphs on every replica, loss on the gathered embeddings, one backward through all.</summary>
    private (Tensor Loss, Tensor Masked) RunDirect(ContrastiveBatch[] shards, TensorOwner step)
    {
        var embeddings = replicas.Map((r, model) => Local(shards, r).Size == 0 ? null : step.Own(Embed(model, Local(shards, r).PaddingGroups())));
        using var scope = NewDisposeScope();
        var (loss, masked) = Loss(shards, Gather(shards, embeddings.Select(e => e?.to(replicas.Primary.Device)).ToArray(), step));
        timer?.Lap(StepPhase.Loss);
        loss.backward();
        timer?.Lap(StepPhase.Backward);
        return (loss.detach().MoveToOuterDisposeScope(), masked.MoveToOuterDisposeScope());
    }

    /// <summary>Each group of rows embedded as its own padded batch, in order → [rows, H].</summary>
    private Tensor Embed(EmbeddingDecoder model, List<int[]>[] groups)
    {
        using var scope = NewDisposeScope();
        var pieces = new List<Tensor>();
        for (int i = 0; i < groups.Length; i++)
        {
            if (groups[i].Count == 0) continue;
            pieces.Add(EmbeddingPass.Embed(model, groups[i], Padded));
            timer?.Lap(groups.Length == 1 ? StepPhase.ForwardAllRows : i == 0 ? StepPhase.ForwardQueries : StepPhase.ForwardDocuments);
        }
        return cat(pieces, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The timer's boundary between padding a forward's rows and running it (null without a timer).</summary>
    private Action? Padded => timer is { } t ? () => t.Lap(StepPhase.PadAndCopy) : null;

    /// <summary>What stage 1 leaves a replica for stage 3: its micro-batches, the dropout RNG state before each and after the last, and their embeddings [rows, H] (no graph).</summary>
    private sealed record CachedShard(List<List<int[]>> Chunks, List<byte[]> RngBefore, byte[] RngAfter, Tensor? Embeddings);

    /// <summary>GradCache in three stages (class summary): embed without a graph, loss and embedding gradients, recompute and backward.</summary>
    private (Tensor Loss, Tensor Masked) RunCached(ContrastiveBatch[] shards, int micro, TensorOwner step)
    {
        var cached = replicas.Map((r, model) => EmbedWithoutGraph(model, Local(shards, r).PaddingGroups().SelectMany(g => Chunks(g, micro)).ToList(), step));
        var (loss, masked, gradients) = LossAndEmbeddingGradients(shards, cached, step);
        replicas.ForEach((r, model) => RecomputeAndBackward(model, cached[r], gradients[r]));
        return (loss, masked);
    }

    /// <summary>Stage 1: a replica's micro-batches embedded without a graph, remembering the RNG state before each.</summary>
    private CachedShard EmbedWithoutGraph(EmbeddingDecoder model, List<List<int[]>> chunks, TensorOwner step)
    {
        var rngBefore = new List<byte[]>();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var pieces = new List<Tensor>();
        foreach (var chunk in chunks)
        {
            rngBefore.Add(model.DropoutGenerator.GetState());
            pieces.Add(EmbeddingPass.Embed(model, chunk, Padded));            // [chunk, H]
            timer?.Lap(StepPhase.EmbedWithoutGraph);
        }
        var embeddings = pieces.Count == 0 ? null : step.Own(cat(pieces, 0)); // [rows, H]
        return new CachedShard(chunks, rngBefore, model.DropoutGenerator.GetState(), embeddings);
    }

    /// <summary>Stage 2: the loss on the full gathered batch, and its gradient with respect to each replica's embeddings.</summary>
    private (Tensor Loss, Tensor Masked, Tensor?[] Gradients) LossAndEmbeddingGradients(ContrastiveBatch[] shards, CachedShard[] cached, TensorOwner step)
    {
        using var scope = NewDisposeScope();
        var leaves = cached.Select(c => c.Embeddings is null ? null : step.Own(c.Embeddings.to(replicas.Primary.Device).detach().requires_grad_(true))).ToArray();
        var (loss, masked) = Loss(shards, Gather(shards, leaves, step));
        timer?.Lap(StepPhase.Loss);
        loss.backward();
        timer?.Lap(StepPhase.EmbeddingGradients);
        return (loss.detach().MoveToOuterDisposeScope(), masked.MoveToOuterDisposeScope(), leaves.Select(l => l is null ? null : step.Own(l.grad!)).ToArray());
    }

    /// <summary>Stage 3: each micro-batch recomputed with a graph (its RNG state replayed) and back-propagated with its slice of the gradient.</summary>
    private void RecomputeAndBackward(EmbeddingDecoder model, CachedShard cached, Tensor? gradient)
    {
        if (gradient is null) return;
        using var scope = NewDisposeScope();
        var local = gradient.to(model.Device); // [rows, H]
        long offset = 0;
        for (int i = 0; i < cached.Chunks.Count; i++)
        {
            model.DropoutGenerator.SetState(cached.RngBefore[i]);
            using var chunkScope = NewDisposeScope();
            var embeddings = EmbeddingPass.Embed(model, cached.Chunks[i], Padded);
            timer?.Lap(StepPhase.RecomputeForward);
            embeddings.backward([local.narrow(0, offset, embeddings.shape[0])]);
            timer?.Lap(StepPhase.RecomputeBackward);
            offset += embeddings.shape[0];
        }
        model.DropoutGenerator.SetState(cached.RngAfter);
    }

    /// <summary>
    /// InfoNCE over the gathered batch; <paramref name="embeddings"/>[r] holds replica r's [queries; positives; negatives].
    /// The shards are contiguous row ranges, so gathering them in replica order keeps the global candidate layout
    /// (<see cref="ContrastiveBatch"/>): [B positives; each row's negatives, row after row], however many per row.
    /// </summary>
    private (Tensor Loss, Tensor Masked) Loss(ContrastiveBatch[] shards, Tensor?[] embeddings)
    {
        var queries = new List<Tensor>();
        var positives = new List<Tensor>();
        var negatives = new List<Tensor>();
        for (int r = 0; r < shards.Length; r++)
        {
            if (embeddings[r] is not { } e) continue;
            int n = shards[r].Size, m = shards[r].Negatives.Count;
            queries.Add(e.narrow(0, 0, n));
            positives.Add(e.narrow(0, n, n));
            if (m > 0) negatives.Add(e.narrow(0, 2 * n, m));
        }
        return InfoNceLoss.Compute(cat(queries, 0), cat(positives, 0), negatives.Count > 0 ? cat(negatives, 0) : null, lossOptions);
    }

    /// <summary>Every process's replicas' embeddings, in global replica order (this process's: the tensors given).</summary>
    private Tensor?[] Gather(ContrastiveBatch[] shards, Tensor?[] local, TensorOwner step) =>
        _group.GatherEmbeddings(local, shards.Select(s => (long)s.PaddingGroups().Sum(g => g.Count)).ToArray(), step.Own);

    /// <summary>This process's replica <paramref name="r"/>'s shard.</summary>
    private ContrastiveBatch Local(ContrastiveBatch[] shards, int r) => shards[_group.First + r];

    /// <summary>Contiguous row ranges over every process's replicas, as even as possible; the first replicas take the remainder.</summary>
    private ContrastiveBatch[] Shards(ContrastiveBatch batch)
    {
        int count = _group.GlobalCount, start = 0;
        var shards = new ContrastiveBatch[count];
        for (int r = 0; r < count; r++)
        {
            int size = batch.Size / count + (r < batch.Size % count ? 1 : 0);
            shards[r] = batch.Slice(start, size);
            start += size;
        }
        return shards;
    }

    private static List<List<int[]>> Chunks(List<int[]> rows, int size) =>
        Enumerable.Range(0, (rows.Count + size - 1) / size).Select(i => rows.GetRange(i * size, Math.Min(size, rows.Count - i * size))).ToList();
}
