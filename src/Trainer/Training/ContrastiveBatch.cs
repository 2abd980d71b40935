using Trainer.Data;
using Trainer.Text;

namespace Trainer.Training;

/// <summary>
/// The token rows of one training step: queries (with their instruction prompt), their positives, and the hard
/// negatives of the rows that have one, in batch order. Row i of <see cref="Positives"/> belongs to query i.
/// </summary>
public sealed record ContrastiveBatch(List<int[]> Queries, List<int[]> Positives, List<int[]> Negatives)
{
    public int Size => Queries.Count;

    public long TokenCount => Queries.Concat(Positives).Concat(Negatives).Sum(r => (long)r.Length);

    /// <summary>All rows in forward order: [queries; positives; negatives].</summary>
    public List<int[]> AllRows() => [.. Queries, .. Positives, .. Negatives];

    public static ContrastiveBatch Build(IReadOnlyList<TrainingExample> examples, IReadOnlyList<int> rows, int seed, int epoch,
        EmbeddingTokenizer tokenizer, int maxLength)
    {
        var queries = new List<int[]>(rows.Count);
        var positives = new List<int[]>(rows.Count);
        var negatives = new List<int[]>();
        foreach (var row in rows)
        {
            var example = examples[row];
            var (positive, negative) = example.Draw(seed, epoch, row);
            queries.Add(tokenizer.Encode(example.Query, example.Instruction, maxLength));
            positives.Add(tokenizer.Encode(positive, null, maxLength));
            if (negative is not null) negatives.Add(tokenizer.Encode(negative, null, maxLength));
        }
        return new ContrastiveBatch(queries, positives, negatives);
    }
}
