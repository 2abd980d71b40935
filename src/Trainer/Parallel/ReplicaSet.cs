using TorchSharp;
using TorchSharp.Modules;
using Trainer.Models;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// One model replica per device (several may share the CPU), each driven by its own thread. Replica 0 is the
/// primary: the optimizer steps its adapters, gradients are summed into it, and its adapter weights are copied back
/// to the others after each step, so the replicas stay identical. (TorchSharp has no torch.distributed; this is
/// data parallelism inside one process. docs/multi-node.md lays out the multi-node design.)
/// </summary>
public sealed class ReplicaSet(IReadOnlyList<EmbeddingDecoder> models) : IDisposable
{
    public IReadOnlyList<EmbeddingDecoder> Models { get; } = models;

    public EmbeddingDecoder Primary => Models[0];

    public int Count => Models.Count;

    /// <summary>Runs <paramref name="work"/> for every replica, each on its own thread (inline when there is one).</summary>
    public T[] Map<T>(Func<int, EmbeddingDecoder, T> work)
    {
        if (Count == 1) return [work(0, Primary)];
        var results = new T[Count];
        var errors = new Exception?[Count];
        var threads = Enumerable.Range(0, Count).Select(r => new Thread(() =>
        {
            try
            {
                results[r] = work(r, Models[r]);
            }
            catch (Exception e)
            {
                errors[r] = e;
            }
        })
        { IsBackground = true }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (errors.FirstOrDefault(e => e is not null) is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return results;
    }

    /// <summary>Runs <paramref name="work"/> for every replica, each on its own thread (inline when there is one).</summary>
    public void ForEach(Action<int, EmbeddingDecoder> work) => Map((r, model) =>
    {
        work(r, model);
        return true;
    });

    /// <summary>Adds every replica's adapter gradients into the primary's.</summary>
    public void ReduceGradients()
    {
        if (Count == 1) return;
        using var _ = no_grad();
        using var one = 1.ToScalar();
        var primary = Trainable(Primary);
        foreach (var replica in Models.Skip(1))
        {
            var other = Trainable(replica);
            for (int i = 0; i < primary.Count; i++)
            {
                if (other[i].grad is not { } g) continue;
                using var moved = g.to(primary[i].device);
                if (primary[i].grad is { } pg) pg.add_(moved, alpha: one);
                else primary[i].grad = moved.clone();
            }
        }
    }

    /// <summary>Copies the primary's adapter weights to every other replica.</summary>
    public void Broadcast()
    {
        if (Count == 1) return;
        using var _ = no_grad();
        var primary = Trainable(Primary);
        foreach (var replica in Models.Skip(1))
        {
            var other = Trainable(replica);
            for (int i = 0; i < primary.Count; i++) other[i].copy_(primary[i]);
        }
    }

    public void ZeroGradients()
    {
        foreach (var model in Models) model.zero_grad();
    }

    private static List<Parameter> Trainable(EmbeddingDecoder model) => model.TrainableParameters().ToList();

    public void Dispose()
    {
        foreach (var model in Models) model.Dispose();
    }
}
