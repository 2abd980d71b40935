namespace Trainer.Synthesis;

/// <summary>A line of DIR/tasks.jsonl: a brainstormed task and the brainstorm request it came from.</summary>
public sealed record TaskRecord(string Group, string Task, string Brainstorm);
