namespace Trainer.Synthesis;

/// <summary>The server's token counts for one request (0 when it gave none).</summary>
public sealed record UsageRecord(int PromptTokens, int CompletionTokens);
