namespace Trainer.Synthesis;

/// <summary>
/// A line of DIR/train.jsonl, in the columns <c>trainer train</c> reads (query, positive, negative, instruction) plus
/// where it came from: group, language, task, template version and the request id.
/// </summary>
public sealed record SynthRow(string Query, string Positive, string? Negative, string Instruction, string Group, string Language, string Task, string Template, string Id);
