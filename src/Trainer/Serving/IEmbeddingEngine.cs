namespace Trainer.Serving;

/// <summary>
/// What runs the model for the server: rows of token ids (BOS … EOS, as <see cref="Text.EmbeddingTokenizer"/> makes
/// them) in, unit vectors out, in the same order. <see cref="EmbeddingBatcher"/> calls it from one thread at a time.
/// </summary>
public interface IEmbeddingEngine : IDisposable
{
    /// <summary>How it runs, for logs and <c>/health</c>: "torch on cpu", "onnx on cpu".</summary>
    string Description { get; }

    /// <summary>The embedding's length (the model's hidden size).</summary>
    int Dimensions { get; }

    float[][] Embed(IReadOnlyList<int[]> rows);
}
