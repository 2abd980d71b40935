namespace Trainer.Synthesis;

/// <summary>
/// How one chat request ended, after its retries: <see cref="Content"/> is set when the server answered 2xx.
/// <see cref="Failure"/> says why not otherwise (e.g. <c>http 400</c>, <c>http 503 (5 attempts)</c>,
/// <c>connection (5 attempts)</c>). <see cref="Errors"/> lists every failed attempt's cause in order
/// (<c>429</c>, <c>503</c>, <c>timeout</c>, <c>connection</c>).
/// </summary>
public sealed record ChatAnswer(
    string? Content,
    string? FinishReason,
    int PromptTokens,
    int CompletionTokens,
    int Attempts,
    IReadOnlyList<string> Errors,
    double LatencyMs,
    string? Failure)
{
    public bool Answered => Failure is null;
}
