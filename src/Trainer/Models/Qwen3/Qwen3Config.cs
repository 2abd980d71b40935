using Trainer.Models.Mistral;
using Trainer.Models.Qwen2;

namespace Trainer.Models.Qwen3;

/// <summary>
/// A Qwen3 <c>config.json</c> (<c>model_type: qwen3</c>; Qwen3 bases and Qwen3-Embedding): Hugging Face's
/// <c>Qwen3Model</c> is the Mistral decoder whose q and k are RMS-normalised per head over head_dim (<c>q_norm</c>,
/// <c>k_norm</c>) before RoPE, with no biases (<c>attention_bias: true</c> is refused by the shared pass) and an
/// explicit head_dim (absent: 128, Qwen3Config's default, not hidden_size / num_attention_heads). It binds to
/// <see cref="MistralConfig"/> with <see cref="MistralConfig.QkNorm"/> set, after Qwen2's defaults and window keys
/// (<see cref="Qwen2Config"/>).
/// </summary>
public static class Qwen3Config
{
    public static MistralConfig Load(string path)
    {
        var json = MistralConfig.ReadObject(path);
        Qwen2Config.FillQwenDefaults(json, headDim: 128);
        Qwen2Config.CheckWindowKeys(json, path);
        return MistralConfig.Bind(json, path, c => c with { QkNorm = true });
    }
}
