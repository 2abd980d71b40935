namespace Trainer.Evaluation;

/// <summary>One retrieved document of a query's run: its id and the score it was retrieved with.</summary>
public readonly record struct ScoredDoc(string DocId, double Score);
