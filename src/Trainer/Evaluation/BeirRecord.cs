namespace Trainer.Evaluation;

/// <summary>A document (text = title and text joined as for training) or a query of a BEIR dataset.</summary>
public sealed record BeirRecord(string Id, string Text);
