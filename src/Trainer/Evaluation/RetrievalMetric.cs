namespace Trainer.Evaluation;

/// <summary>A reported measure: its key in results.json (MTEB's names), its table label, and its per-query value.</summary>
public sealed record RetrievalMetric(string Name, string Label, Func<JudgedRanking, double> PerQuery);
