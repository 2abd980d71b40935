namespace Trainer.Serving;

/// <summary>The vectors of a request's inputs, in order, and the tokens the model read for them (BOS and EOS included).</summary>
public sealed record EmbeddingResult(float[][] Vectors, int PromptTokens);
