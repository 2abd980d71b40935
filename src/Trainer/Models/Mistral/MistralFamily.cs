using Trainer.Models.Lora;
using static TorchSharp.torch;

namespace Trainer.Models.Mistral;

/// <summary>
/// The Mistral family (<c>model_type</c> mistral, and llama, which shares the layout) as <see cref="ModelFamilies"/>
/// sees it: <see cref="MistralConfig"/>, the tensors of <see cref="MistralLayout"/>, and <see cref="MistralModel"/>.
/// Its ONNX exporter is <see cref="Export.MistralOnnxBuilder"/>.
/// </summary>
public sealed class MistralFamily(MistralConfig config) : ModelFamily
{
    public override MistralConfig Config => config;

    public override IEnumerable<(string Name, long[] Shape)> Tensors() => MistralLayout.Tensors(config);

    public override long TensorCount() => MistralLayout.TensorCount(config);

    public override long ParameterCount() => MistralLayout.ParameterCount(config);

    public override long LoraParameterCount(LoraSettings lora) => MistralLayout.LoraParameterCount(config, lora);

    public override void CheckLoraRank(LoraSettings lora, string source) => MistralLayout.CheckLoraRank(config, lora, source);

    public override MistralFamily WithRopeTheta(double theta)
    {
        if (!(theta > 0) || double.IsInfinity(theta))
            throw new ArgumentOutOfRangeException(nameof(theta), theta, "rope_theta must be a finite number > 0.");
        return new MistralFamily(config with { RopeTheta = theta });
    }

    public override EmbeddingDecoder Create(ScalarType dtype, Device device, LoraSettings? lora, KeyLayout keys) => new MistralModel(config, dtype, device, lora, keys);
}
