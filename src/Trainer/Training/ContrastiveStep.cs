using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Parallel;
using static TorchSharp.torch;

namespace Trainer.Training;

/// <summary>
/// One step's loss and adapter gradients over the global batch. The batch is split into contiguous row shards, one
/// per replica; every replica embeds its shard, and the embeddings are gathered on the primary device so that each
/// query scores all positives and all negatives of the global batch (not just its replica's). Gradients end up
/// summed in the primary replica.
///
/// With <c>microBatchSize</c> the step is a cached contrastive batch (GradCache):
/// 1. each replica embeds its rows micro-batch by micro-batch without a graph (recording the dropout RNG state);
/// 2. the loss is computed on the full gathered batch, and its gradient with respect to the embeddings;
/// 3. each replica recomputes each micro-batch with a graph (RNG replayed) and back-propagates the cached
///    embedding gradients. Activation memory then scales with the micro-batch, not the batch.
/// </summary>
public sealed class ContrastiveStep(ReplicaSet replicas, int? microBatchSize, double temperature)
{
    public double Run(ContrastiveBatch batch)
    {
        var shards = Shards(batch);
        double loss = microBatchSize is int m ? RunCached(shards, m) : RunDirect(shards);
        LayerCheckpoint.ReleasePending();
        replicas.ReduceGradients();
        return loss;
    }

    /// <summary>Forward with graphs on every replica, loss on the gathered embeddings, one backward through all.</summary>
    private double RunDirect(ContrastiveBatch[] shards)
    {
        var owned = new List<Tensor>();
        try
        {
            var embeddings = replicas.Map((r, model) =>
            {
                if (shards[r].Size == 0) return null;
                using var scope = NewDisposeScope();
                return EmbeddingPass.Embed(model, shards[r].AllRows()).DetachFromDisposeScope();
            });
            owned.AddRange(embeddings.Where(e => e is not null)!);
            using var scope = NewDisposeScope();
            var loss = Loss(shards, embeddings.Select(e => e?.to(replicas.Primary.Device)).ToArray());
            loss.backward();
            return loss.item<float>();
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    private double RunCached(ContrastiveBatch[] shards, int micro)
    {
        // 1. Embeddings without a graph, micro-batch by micro-batch, remembering the RNG state before each.
        var cached = replicas.Map((r, model) =>
        {
            var chunks = Chunks(shards[r].AllRows(), micro);
            var states = new List<byte[]>();
            var pieces = new List<Tensor>();
            using (no_grad())
            {
                foreach (var chunk in chunks)
                {
                    states.Add(GeneratorState.Get(model.DropoutGenerator));
                    using var scope = NewDisposeScope();
                    pieces.Add(EmbeddingPass.Embed(model, chunk).DetachFromDisposeScope());
                }
            }
            Tensor? all = pieces.Count == 0 ? null : cat(pieces, 0).DetachFromDisposeScope();
            foreach (var p in pieces) p.Dispose();
            return (Chunks: chunks, States: states, End: GeneratorState.Get(model.DropoutGenerator), Embeddings: all);
        });

        // 2. The loss on the full batch, and d loss / d embeddings.
        var leaves = cached.Select(c =>
        {
            if (c.Embeddings is null) return null;
            using var scope = NewDisposeScope();
            return c.Embeddings.to(replicas.Primary.Device).detach().requires_grad_(true).DetachFromDisposeScope();
        }).ToArray();
        double value;
        using (var scope = NewDisposeScope())
        {
            var loss = Loss(shards, leaves);
            loss.backward();
            value = loss.item<float>();
        }

        // 3. Recompute each micro-batch with a graph and back-propagate its slice of the cached gradient.
        replicas.Map((r, model) =>
        {
            if (leaves[r] is not { } leaf) return 0;
            using var gradient = leaf.grad!.to(model.Device);
            long offset = 0;
            for (int i = 0; i < cached[r].Chunks.Count; i++)
            {
                GeneratorState.Set(model.DropoutGenerator, cached[r].States[i]);
                using var scope = NewDisposeScope();
                var embeddings = EmbeddingPass.Embed(model, cached[r].Chunks[i]);
                embeddings.backward([gradient.narrow(0, offset, embeddings.shape[0])]);
                offset += embeddings.shape[0];
            }
            GeneratorState.Set(model.DropoutGenerator, cached[r].End);
            return 0;
        });
        foreach (var c in cached) c.Embeddings?.Dispose();
        foreach (var l in leaves) l?.Dispose();
        return value;
    }

    /// <summary>InfoNCE over the gathered batch; <paramref name="embeddings"/>[r] holds replica r's [queries; positives; negatives].</summary>
    private Tensor Loss(ContrastiveBatch[] shards, Tensor?[] embeddings)
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
        return InfoNceLoss.Compute(cat(queries, 0), cat(positives, 0), negatives.Count > 0 ? cat(negatives, 0) : null, temperature);
    }

    /// <summary>Contiguous row ranges, as even as possible; the first replicas take the remainder.</summary>
    private ContrastiveBatch[] Shards(ContrastiveBatch batch)
    {
        int count = replicas.Count, start = 0;
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
