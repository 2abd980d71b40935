using Trainer.Data;
using Trainer.Text;

namespace Trainer.Training;

/// <summary>
/// The token rows of one training step, one entry per training row: the query (with its instruction prompt), its
/// positive, and its hard negatives (k per row with <c>data.negatives_per_query: k</c>; none for a row without any).
///
/// Candidate layout, which the loss and everything over it (masks, Matryoshka) rely on: [all B positives, in row
/// order; then the negatives in row-major order: row 0's k negatives, then row 1's k, ...], B + B·k candidates when
/// every row has negatives (a row without any contributes none). The target of query i is candidate i, its own
/// positive. The model embeds the queries and the documents [positives; negatives] as two batches, each padded to
/// its own longest row, whenever their longest rows differ (<see cref="PaddingGroups"/>): queries are usually much
/// shorter than documents, and one common length would spend most of their forward on padding.
/// </summary>
public sealed record ContrastiveBatch(List<int[]> Queries, List<int[]> Positives, List<int[][]> RowNegatives)
{
    /// <summary>At most one negative per row (null = none).</summary>
    public ContrastiveBatch(List<int[]> queries, List<int[]> positives, List<int[]?> rowNegatives)
        : this(queries, positives, rowNegatives.Select(n => n is null ? Array.Empty<int[]>() : [n]).ToList())
    {
    }

    public int Size => Queries.Count;

    /// <summary>Every row's negatives, row after row (row-major).</summary>
    public List<int[]> Negatives => RowNegatives.SelectMany(n => n).ToList();

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

    /// <summary>
    /// The batch of <paramref name="rows"/> (global row indices) in <paramref name="epoch"/>: each row's drawn positive and
    /// <paramref name="negativesPerQuery"/> drawn negatives (<see cref="TrainingExample.DrawNegatives"/>). A symmetric
    /// row's documents carry its instruction too.
    /// </summary>
    public static ContrastiveBatch Build(IReadOnlyList<TrainingExample> examples, IReadOnlyList<int> rows, int seed, int epoch,
        EmbeddingTokenizer tokenizer, int maxLength, int negativesPerQuery = 1)
    {
        var queries = new List<int[]>(rows.Count);
        var positives = new List<int[]>(rows.Count);
        var negatives = new List<int[][]>(rows.Count);
        foreach (var row in rows)
        {
            var example = examples[row];
            var positive = example.DrawPositive(seed, epoch, row);
            string? documentInstruction = example.Symmetric ? example.Instruction : null;
            queries.Add(tokenizer.Encode(example.Query, example.Instruction, maxLength));
            positives.Add(tokenizer.Encode(positive, documentInstruction, maxLength));
            negatives.Add(example.DrawNegatives(seed, epoch, row, negativesPerQuery).Select(n => tokenizer.Encode(n, documentInstruction, maxLength)).ToArray());
        }
        return new ContrastiveBatch(queries, positives, negatives);
    }
}
