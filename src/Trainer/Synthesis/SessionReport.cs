namespace Trainer.Synthesis;

/// <summary>One run's requests, tokens and wall time, and the rates they give.</summary>
public sealed record SessionReport(int Requests, int Rows, long PromptTokens, long CompletionTokens, double Seconds)
{
    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;
    public double TokensPerSecond => Seconds > 0 ? (PromptTokens + CompletionTokens) / Seconds : 0;
    public double CompletionTokensPerSecond => Seconds > 0 ? CompletionTokens / Seconds : 0;
}
