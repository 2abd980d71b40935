using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// The one owner of tensors whose lives end together: those of one training step, or the gradients a model's
/// recomputed layers hand to autograd during one backward. <see cref="Own"/> takes a tensor out of every dispose
/// scope; <see cref="Release"/> (or <see cref="Dispose"/>) disposes everything owned so far, so callers write one
/// <c>using</c> or <c>finally</c> instead of a dispose per tensor. Thread-safe: replica threads and the autograd
/// engine's threads add to it. Never give it a tensor that something else disposes.
/// </summary>
public sealed class TensorOwner : IDisposable
{
    private readonly ConcurrentQueue<Tensor> _tensors = new();

    /// <summary>Tensors owned and not yet released.</summary>
    public int Count => _tensors.Count;

    /// <summary>Takes <paramref name="tensor"/> out of its dispose scope and owns it until <see cref="Release"/>; returns it.</summary>
    public Tensor Own(Tensor tensor)
    {
        _tensors.Enqueue(tensor.DetachFromDisposeScope());
        return tensor;
    }

    /// <summary>Disposes every tensor owned so far; the owner can be used again.</summary>
    public void Release()
    {
        while (_tensors.TryDequeue(out var tensor)) tensor.Dispose();
    }

    public void Dispose() => Release();
}
