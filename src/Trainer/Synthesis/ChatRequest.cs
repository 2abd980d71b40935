namespace Trainer.Synthesis;

/// <summary>
/// One chat completion: a single user message with the rendered prompt, sampled with <paramref name="Temperature"/>,
/// <paramref name="TopP"/>, at most <paramref name="MaxTokens"/> completion tokens, the server-side
/// <paramref name="Seed"/>, n = 1. <paramref name="Keys"/>: the JSON
/// object keys a generation must return (the JSON mode's schema); null for a brainstorm, which answers a list and is sent without a JSON mode.
/// </summary>
public sealed record ChatRequest(string Prompt, double Temperature, double TopP, int MaxTokens, int Seed, IReadOnlyList<string>? Keys = null);
