using Trainer.Data;
using Trainer.Text;

namespace Trainer.Training;

/// <summary>
/// The token rows of one training step, one entry per training row: the query (with its instruction prompt), its
/// positive, and its hard negative if it has one. The loss sees the candidates [all positives; the negatives of
/// the rows that have one], both in row order. The model embeds the queries and the documents [positives; negatives]
/// as two batches, each padded to its own longest row, whenever their longest rows differ (<see cref="PaddingGroups"/>):
/// queries are usually much shorter than documents, and one common length would spend most of their forward on
/// padding.
/// </summary>
public sealed record ContrastiveBatch(List<int[]> Queries, List<int[]> Positives, List<int[]?> RowNegatives)
{
    public int Size => Queries.Count;

    public List<int[]> Negatives => RowNegatives.Where(n => n is not null).Select(n => n!).ToList();

    public long TokenCount => Queries.Concat(Positives).Concat(Negatives).Sum(r => (long)r.Length);

    /// <summary>The documents: [positives; negatives].</summary>
    public List<int[]> Documents() => [.. Positives, .. Negatives];

    /// <summary>All rows in forward order: [queries; positives; negatives].</summary>
    public List<int[]> AllRows() => [.. Queries, .. Documents()];

    /// <summary>
    /// The rows as the model embeds them, each group padded on its own; concatenated, they are <see cref="AllRows"/>.
    /// [queries], [positives; negatives] when the longest query and the longest document differ in length; otherwise
    /// one group, since two batches would remove no padding, only add a forward's worth of kernel launches.
    /// </summary>
    public List<int[]>[] PaddingGroups()
    {
        if (Size == 0) return [];
        var documents = Documents();
        return Queries.Max(r => r.Length) == documents.Max(r => r.Length) ? [AllRows()] : [Queries, documents];
    }

    /// <summary>Rows [start, start + count) as their own batch (a replica's shard of the global batch).</summary>
    public ContrastiveBatch Slice(int start, int count) =>
        new(Queries.GetRange(start, count), Positives.GetRange(start, count), RowNegatives.GetRange(start, count));

    public static ContrastiveBatch Build(IReadOnlyList<TrainingExample> examples, IReadOnlyList<int> rows, int seed, int epoch,
        EmbeddingTokenizer tokenizer, int maxLength)
    {
        var queries = new List<int[]>(rows.Count);
        var positives = new List<int[]>(rows.Count);
        var negatives = new List<int[]?>(rows.Count);
        foreach (var row in rows)
        {
            var example = examples[row];
            var (positive, negative) = example.Draw(seed, epoch, row);
            queries.Add(tokenizer.Encode(example.Query, example.Instruction, maxLength));
            positives.Add(tokenizer.Encode(positive, null, maxLength));
            negatives.Add(negative is null ? null : tokenizer.Encode(negative, null, maxLength));
        }
        return new ContrastiveBatch(queries, positives, negatives);
    }
}
