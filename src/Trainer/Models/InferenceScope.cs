using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>
/// Inference on a model that may be training: no graph and eval mode (LoRA dropout off, so no dropout is drawn)
/// until disposed, then the model's previous train/eval mode and the previous grad mode are back. Embedding in the
/// middle of a run (evaluation) therefore leaves the run as it was. Dispose it on the thread that created it (grad
/// mode is per thread).
/// </summary>
public sealed class InferenceScope : IDisposable
{
    private readonly nn.Module _model;
    private readonly bool _wasTraining;
    private readonly IDisposable _noGrad;

    public InferenceScope(nn.Module model)
    {
        (_model, _wasTraining) = (model, model.training);
        _noGrad = no_grad();
        model.eval();
    }

    public void Dispose()
    {
        _model.train(_wasTraining);
        _noGrad.Dispose();
    }
}
