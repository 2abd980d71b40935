using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// This process's replicas among all processes' (<see cref="ICommunicator"/>): the global replicas are numbered rank
/// by rank, so this process holds replicas <see cref="First"/> to <see cref="First"/> + <c>localCount</c> − 1, and a
/// global batch split over <see cref="GlobalCount"/> replicas in row order gives every rank its rows. One process
/// (<see cref="SingleProcess"/>) makes every method the identity.
/// </summary>
public sealed class ProcessGroup(ICommunicator ranks, int localCount)
{
    public ICommunicator Ranks => ranks;

    public int GlobalCount => ranks.Size * localCount;

    public int First => ranks.Rank * localCount;

    /// <summary>
    /// Every global replica's embeddings [rows_r, H], in replica order: this rank's own tensors as given (their graphs
    /// kept), the other ranks' received through one all-gather (no graph), on the device of the first local one.
    /// <paramref name="rows"/>[r] is global replica r's row count (every rank knows the global batch).
    /// </summary>
    public Tensor?[] GatherEmbeddings(Tensor?[] local, IReadOnlyList<long> rows, Func<Tensor, Tensor> own)
    {
        if (ranks.Size == 1) return local;
        if (local.Any(e => e is null) || rows.Any(n => n == 0))
            throw new InvalidOperationException($"Every replica needs rows: the batch left a replica of the {GlobalCount} without any (training.batch_size ≥ processes × replicas).");
        var perRank = Enumerable.Range(0, ranks.Size).Select(k => rows.Skip(k * localCount).Take(localCount).Sum()).ToArray();
        using var scope = NewDisposeScope();
        using var mine = cat(local.Select(e => e!.detach()).ToList(), 0);   // [local rows, H]
        var all = ranks.AllGather(mine, perRank);                               // [global rows, H]
        var result = new Tensor?[rows.Count];
        long offset = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            result[r] = r >= First && r < First + localCount ? local[r - First] : own(all.narrow(0, offset, rows[r]).MoveToOuterDisposeScope());
            offset += rows[r];
        }
        return result;
    }

    /// <summary>Sums the parameters' gradients over the ranks in place (one all-reduce per dtype; a missing gradient counts as zeros).</summary>
    public void SumGradients(IEnumerable<Parameter> parameters)
    {
        if (ranks.Size == 1) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = parameters.ToList();
        foreach (var p in list.Where(p => p.grad is null)) p.grad = zeros_like(p).DetachFromDisposeScope();
        foreach (var group in list.GroupBy(p => p.grad!.dtype))
        {
            var flat = cat(group.Select(p => p.grad!.flatten()).ToList(), 0); // [Σ numel]
            ranks.AllReduceSum(flat);
            long offset = 0;
            foreach (var p in group)
            {
                p.grad!.copy_(flat.narrow(0, offset, p.grad.numel()).view_as(p.grad));
                offset += p.grad.numel();
            }
        }
    }
}
