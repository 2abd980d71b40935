using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Trainer.Models.Modules;

/// <summary>Token embedding table, <c>weight</c> [V, H], allocated uninitialised like <see cref="Linear"/>.</summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [V, H]

    public Embedding(long vocabSize, long hidden, ScalarType dtype, Device device) : base(nameof(Embedding))
    {
        weight = new Parameter(empty(vocabSize, hidden, dtype, device));
        RegisterComponents();
    }

    /// <summary>ids [..] (int64) → [.., H].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var flat = weight.index_select(0, ids.reshape(-1)); // [n, H]
        return flat.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope();
    }
}
