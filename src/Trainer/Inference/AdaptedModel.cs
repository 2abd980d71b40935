using Trainer.Models;
using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Inference;

/// <summary>The model that <c>trainer embed</c> and <c>trainer eval</c> run: a model folder with, optionally, a PEFT LoRA adapter on top.</summary>
public static class AdaptedModel
{
    /// <param name="adapterDir">An adapter folder (already resolved: see <see cref="Checkpointing.CheckpointStore.Resolve"/>), or null.</param>
    /// <param name="ropeTheta">Replaces config.json's <c>rope_theta</c> (<see cref="ModelFamily.WithRopeTheta"/>); null: the config's.</param>
    public static EmbeddingDecoder Load(string modelDir, string? adapterDir, ScalarType dtype, Device device, double? ropeTheta = null)
    {
        var lora = adapterDir is null ? null : PeftAdapter.ReadSettings(adapterDir);
        var model = PretrainedLoader.Load(modelDir, dtype, device, lora, ropeTheta);
        try
        {
            if (adapterDir is not null) PeftAdapter.Load(adapterDir, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }
}
