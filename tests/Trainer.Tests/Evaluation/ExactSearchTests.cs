using Trainer.Evaluation;
using static TorchSharp.torch;

namespace Trainer.Tests.Evaluation;

public class ExactSearchTests
{
    private static readonly string[] Ids = Enumerable.Range(0, 23).Select(i => $"doc{(i * 7) % 23}").ToArray();

    /// <summary>[rows, 16] seeded normal embeddings (scores of both signs, no exact ties).</summary>
    private static Tensor Random(int rows, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return randn([rows, 16], generator: generator);
    }

    private static IReadOnlyList<ScoredDoc>[] SearchInChunks(Tensor queries, Tensor corpus, IReadOnlyList<string> ids, int chunk, int topK, int blockSize = 8)
    {
        using var search = new ExactSearch(queries, ids, topK, blockSize);
        for (long start = 0; start < corpus.shape[0]; start += chunk)
        {
            using var part = corpus.narrow(0, start, Math.Min(chunk, corpus.shape[0] - start));
            search.Add(part);
        }
        Assert.Equal(ids.Count, search.Added);
        return search.Results();
    }

    /// <summary>
    /// With a ceiling per query, a document scoring above it is never kept, and k counts the documents at or below it:
    /// the result is the unlimited ranking without the documents above the ceiling, cut at k (whatever the blocks).
    /// </summary>
    [Fact]
    public void A_ceiling_drops_the_documents_above_it_before_the_top_k_is_taken()
    {
        using var queries = Random(7, 1);
        using var corpus = Random(Ids.Length, 2);
        var all = SearchInChunks(queries, corpus, Ids, 5, Ids.Length);
        // query q's ceiling halfway between its (q+1)-th and (q+2)-th scores; the last query has none
        var ceilings = all.Select((row, q) => q == all.Length - 1 ? double.PositiveInfinity : (row[q].Score + row[q + 1].Score) / 2).ToArray();
        using var search = new ExactSearch(queries, Ids, topK: 4, blockSize: 8, ceilings: ceilings);
        search.Add(corpus);
        var capped = search.Results();
        for (int q = 0; q < all.Length; q++)
        {
            int above = q == all.Length - 1 ? 0 : q + 1;
            Assert.Equal(all[q].Skip(above).Take(4).Select(d => d.DocId), capped[q].Select(d => d.DocId));
        }
        // a ceiling below every score keeps nothing
        using var none = new ExactSearch(queries, Ids, 4, ceilings: Enumerable.Repeat(-2.0, 7).ToArray());
        none.Add(corpus);
        Assert.All(none.Results(), row => Assert.Empty(row));
        Assert.Contains("one per query", Assert.Throws<ArgumentException>(() => new ExactSearch(queries, Ids, 4, ceilings: [0.5])).Message);
    }

    /// <summary>
    /// Blocks of 8 documents (0-7, 8-15, 16-22) whatever the chunks: chunks of 1, 2, 5 or 22 documents straddle the
    /// blocks in different ways, and one chunk of 40 would not fit (the corpus has 23), so every chunking is compared
    /// with adding the whole corpus at once. Same ids, same scores, bit for bit.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(30)]
    public void Chunked_search_equals_unchunked_search(int topK)
    {
        using var queries = Random(7, 1);
        using var corpus = Random(Ids.Length, 2);
        var whole = SearchInChunks(queries, corpus, Ids, Ids.Length, topK);
        Assert.All(whole, row => Assert.Equal(Math.Min(topK, Ids.Length), row.Count));
        foreach (int chunk in new[] { 1, 2, 5, 8, 22, 40 })
        {
            var chunked = SearchInChunks(queries, corpus, Ids, chunk, topK);
            for (int q = 0; q < whole.Length; q++)
            {
                Assert.Equal(whole[q].Select(d => d.DocId), chunked[q].Select(d => d.DocId));
                Assert.Equal(whole[q].Select(d => d.Score), chunked[q].Select(d => d.Score));
            }
        }
    }

    /// <summary>
    /// The block size changes the matrix products' shapes, and with them at most the last bits of a float32 score
    /// (observed with libtorch on CPU): the ranking of these well-separated scores is the same for every block size,
    /// from one document per block to the whole corpus in one.
    /// </summary>
    [Fact]
    public void Block_size_changes_no_rank_and_scores_only_in_the_last_bits()
    {
        using var queries = Random(7, 1);
        using var corpus = Random(Ids.Length, 2);
        var reference = SearchInChunks(queries, corpus, Ids, Ids.Length, 30, blockSize: 4096);
        foreach (int blockSize in new[] { 1, 3, 8, 23 })
        {
            var results = SearchInChunks(queries, corpus, Ids, 5, 30, blockSize);
            for (int q = 0; q < reference.Length; q++)
            {
                Assert.Equal(reference[q].Select(d => d.DocId), results[q].Select(d => d.DocId));
                for (int r = 0; r < Ids.Length; r++) Assert.Equal(reference[q][r].Score, results[q][r].Score, 1e-6);
            }
        }
    }

    /// <summary>
    /// An independent reference: every cosine in double precision, sorted in trec_eval's order. The whole corpus is
    /// kept, so negative scores (negative sort keys) are ranked too.
    /// </summary>
    [Fact]
    public void Results_are_the_top_cosines_in_trec_order()
    {
        using var queries = Random(7, 3);
        using var corpus = Random(Ids.Length, 4);
        var results = SearchInChunks(queries, corpus, Ids, 4, Ids.Length);
        var q = queries.to(ScalarType.Float64).data<double>().ToArray();
        var d = corpus.to(ScalarType.Float64).data<double>().ToArray();
        double Norm(double[] x, int row) => Math.Sqrt(Enumerable.Range(0, 16).Sum(h => x[row * 16 + h] * x[row * 16 + h]));
        for (int i = 0; i < 7; i++)
        {
            var expected = Ids.Select((id, j) => new ScoredDoc(id, Enumerable.Range(0, 16).Sum(h => q[i * 16 + h] * d[j * 16 + h]) / Norm(q, i) / Norm(d, j)))
                .Order(TrecOrder.Instance).ToList();
            Assert.Equal(expected.Select(e => e.DocId), results[i].Select(r => r.DocId));
            for (int r = 0; r < Ids.Length; r++) Assert.Equal(expected[r].Score, results[i][r].Score, 1e-6);
            Assert.Contains(results[i], r => r.Score < 0);
        }
    }

    /// <summary>
    /// Unit vectors whose cosines are exact (entries ±0.5, or one 1): the query (.5, .5, .5, .5) scores 1 for d7, 0.5
    /// for six documents, 0 for two and less for the rest. With k = 4 the cut falls inside the 0.5 group, so which
    /// three of d1, d2, d4, d5, d10, d11 are kept is decided by the tie rule alone: id descending in strcmp order
    /// gives d5, d4, d2 (then d11, d10, d1: "d11" > "d10" > "d1" as strings). The same for every chunking and
    /// every corpus order, chunk size and block size.
    /// </summary>
    [Fact]
    public void Ties_are_broken_by_descending_document_id_whatever_the_chunks()
    {
        var vectors = HandMadeBeirTests.DocumentVectors;
        using var query = tensor(HandMadeBeirTests.QueryVectors["q1"], [1, 4]);
        var random = new Random(5);
        for (int trial = 0; trial < 6; trial++)
        {
            var ids = vectors.Keys.OrderBy(_ => random.Next()).ToArray();
            using var corpus = tensor(ids.SelectMany(id => vectors[id]).ToArray(), [ids.Length, 4]);
            foreach (var (chunk, blockSize) in new[] { (1, 1), (1, 5), (3, 4), (12, 12), (20, 4096) })
            {
                var top4 = SearchInChunks(query, corpus, ids, chunk, 4, blockSize)[0];
                Assert.Equal(["d7", "d5", "d4", "d2"], top4.Select(d => d.DocId));
                Assert.Equal([1.0, 0.5, 0.5, 0.5], top4.Select(d => d.Score));
                var all = SearchInChunks(query, corpus, ids, chunk, 100, blockSize)[0];
                Assert.Equal(["d7", "d5", "d4", "d2", "d11", "d10", "d1", "d8", "d3", "d9", "d12", "d6"], all.Select(d => d.DocId));
            }
        }
    }

    [Fact]
    public void Misuse_is_refused_with_a_message()
    {
        using var queries = Random(2, 1);
        using var corpus = Random(3, 2);
        string[] ids = ["a", "b", "c"];
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new ExactSearch(queries, ["a", "b", "a"], 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExactSearch(queries, ids, 0));
        using var search = new ExactSearch(queries, ids, 2);
        using var wrongWidth = zeros(3, 8);
        Assert.Contains("[documents, 16]", Assert.Throws<ArgumentException>(() => search.Add(wrongWidth)).Message);
        using (var two = corpus.narrow(0, 0, 2)) search.Add(two);
        Assert.Contains("3 documents but 2 were added", Assert.Throws<InvalidOperationException>(() => search.Results()).Message);
        Assert.Contains("this chunk brings 3 more", Assert.Throws<ArgumentException>(() => search.Add(corpus)).Message);
        using var nan = full(1, 16, double.NaN);
        Assert.Contains("document embeddings 2..2 hold NaN", Assert.Throws<InvalidOperationException>(() => search.Add(nan)).Message);
    }
}
