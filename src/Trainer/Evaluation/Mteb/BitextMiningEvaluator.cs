namespace Trainer.Evaluation.Mteb;

/// <summary>
/// BitextMining as MTEB's <c>BitextMiningEvaluator</c>: columns <c>sentence1</c> and <c>sentence2</c>, row i's two
/// sentences translations of each other. Each sentence1 is matched to its nearest sentence2 by cosine similarity (ties:
/// the lowest index); with row i's gold match i, <c>precision</c>, <c>recall</c> and <c>f1</c> are scikit-learn's
/// "weighted" averages over the matched indices (zero_division = 0), <c>accuracy</c> the share matched right; the main
/// score is <c>f1</c>.
/// </summary>
public static class BitextMiningEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task)
    {
        var source = encoder.Encode(rows.Select(r => r.Text("sentence1")).ToList(), task.Instruction, task.Normalize);
        var target = encoder.Encode(rows.Select(r => r.Text("sentence2")).ToList(), task.Instruction, task.Normalize);
        var predicted = source.Select(s =>
        {
            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int j = 0; j < target.Length; j++)
            {
                double score = Similarity.Cosine(s, target[j]);
                if (score > bestScore) (best, bestScore) = (j, score);
            }
            return best;
        }).ToList();
        var gold = Enumerable.Range(0, rows.Count).ToList();
        var (precision, recall, f1) = LabelScores.Averaged(gold, predicted, weighted: true);
        return new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["accuracy"] = LabelScores.Accuracy(gold, predicted),
            ["precision"] = precision,
            ["recall"] = recall,
            ["f1"] = f1,
            ["main_score"] = f1,
        };
    }
}
