using TorchSharp;
using static TorchSharp.torch;

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
        var predicted = NearestByCosine(source, target);
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

    private const int SourceChunk = 1024;

    /// <summary>
    /// For each source vector, the index of the target with the highest cosine similarity (ties: the lowest index, as
    /// <c>argmax</c> gives the first maximum). Unit rows in float64, one [chunk, M] matmul per 1,024 sources; a zero
    /// vector scores 0 against everything.
    /// </summary>
    public static List<int> NearestByCosine(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target)
    {
        using var scope = NewDisposeScope();
        var targets = Unit(target);                                                  // [M, D]
        var nearest = new List<int>(source.Count);
        foreach (var rows in source.Chunk(SourceChunk))
        {
            using var chunkScope = NewDisposeScope();
            var best = Unit(rows).matmul(targets.t()).argmax(1);                     // [chunk]
            nearest.AddRange(best.data<long>().Select(i => (int)i));
        }
        return nearest;
    }

    private static Tensor Unit(IReadOnlyList<float[]> rows)
    {
        using var tiny = double.Epsilon.ToScalar();
        var x = EmbeddingMatrix.From(rows, ScalarType.Float64);
        return x / x.norm(1, keepdim: true).clamp_min(tiny);
    }
}
