using TorchSharp;
using static TorchSharp.torch;

namespace Trainer.Evaluation;

/// <summary>
/// Exact cosine top-k over a whole corpus whose embeddings arrive in chunks of any size (Q queries, H hidden size).
/// The documents are scored in blocks of B consecutive documents, one matrix product [Q, H]·[H, B] per block, and per
/// query the best k of (the best so far ∪ the block) are kept: memory is bounded by Q × (k + B) scores plus one
/// block of embeddings, never by the corpus size.
/// <para>
/// The blocks start at document 0, B, 2B, … whatever chunks the embeddings came in, so the results are bit for bit
/// the same for any chunking (a float32 matrix product's last bit depends on the matrix shapes, so scoring each
/// chunk as it comes would let the chunking change scores, and with them near-tied ranks).
/// </para>
/// <para>
/// Order and ties follow <see cref="TrecOrder"/> exactly, on the device: every (score, document) pair becomes one
/// int64 key, the float32 score's order-preserving integer (from its exponent and 24-bit mantissa) in the high bits
/// and the document's rank in id order in the low 30 bits, so <c>topk</c> over keys is score descending, then id
/// descending. The written run, trec_eval and <see cref="RetrievalMetrics"/> therefore all see the same ranking.
/// </para>
/// <para>
/// Optionally each query has a ceiling: a document scoring above it (in float32) is never kept, so the k kept are the
/// best k at or below it (hard-negative mining's false-negative guards, <see cref="FalseNegativeGuard"/>).
/// </para>
/// </summary>
public sealed class ExactSearch : IDisposable
{
    private const int DocBits = 30;
    private const long MantissaScale = 1L << 24;
    private const long AboveCeiling = long.MinValue;   // below every key: such documents sort last and are dropped

    private readonly Tensor _queries;          // [Q, H], unit rows
    private readonly Tensor? _ceilings;        // [Q, 1] float32, or null for none
    private readonly long[] _docRank;         // document index → rank of its id in ascending id order
    private readonly string[] _idsByRank;
    private readonly int _topK;
    private readonly int _blockSize;
    private readonly List<Tensor> _pending = [];   // copies of the rows of the block being filled
    private long _pendingRows;
    private int _scored;                       // documents scored in complete blocks so far
    private Tensor? _bestKeys;                 // [Q, k'] int64, descending
    private Tensor? _bestScores;               // [Q, k'] float32
    private int _added;

    /// <param name="queries">[Q, H] query embeddings (any floating dtype; scored in float32 on their device).</param>
    /// <param name="documentIds">The corpus ids, in the order the chunks will bring their embeddings; unique.</param>
    /// <param name="topK">Documents kept per query.</param>
    /// <param name="blockSize">Documents scored per matrix product (B).</param>
    /// <param name="ceilings">Per query, the highest score a kept document may have (+∞ for no limit); null for none.</param>
    public ExactSearch(Tensor queries, IReadOnlyList<string> documentIds, int topK, int blockSize = 4096, IReadOnlyList<double>? ceilings = null)
    {
        if (queries.dim() != 2) throw new ArgumentException($"query embeddings must be [queries, hidden], got [{string.Join(", ", queries.shape)}].");
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k must be at least 1.");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "the block size must be at least 1.");
        if (documentIds.Count >= 1 << DocBits) throw new ArgumentException($"exact search holds at most {(1 << DocBits) - 1} documents, got {documentIds.Count}.");
        var byId = Enumerable.Range(0, documentIds.Count).ToArray();
        Array.Sort(byId, (a, b) => TrecOrder.CompareIds(documentIds[a], documentIds[b]));
        _docRank = new long[documentIds.Count];
        _idsByRank = new string[documentIds.Count];
        for (int rank = 0; rank < byId.Length; rank++)
        {
            if (rank > 0 && documentIds[byId[rank]] == documentIds[byId[rank - 1]])
                throw new ArgumentException($"document id \"{documentIds[byId[rank]]}\" appears twice in the corpus.");
            _docRank[byId[rank]] = rank;
            _idsByRank[rank] = documentIds[byId[rank]];
        }
        if (ceilings is not null && ceilings.Count != queries.shape[0])
            throw new ArgumentException($"{ceilings.Count} ceilings were given for {queries.shape[0]} queries; give one per query.");
        (_topK, _blockSize) = (topK, blockSize);
        using var scope = NewDisposeScope();
        CheckFinite(queries, "query embeddings");
        _queries = nn.functional.normalize(queries.to(ScalarType.Float32), p: 2, dim: 1).DetachFromDisposeScope();
        _ceilings = ceilings is null ? null
            : tensor(ceilings.Select(c => (float)c).ToArray(), [ceilings.Count, 1], device: _queries.device).DetachFromDisposeScope();
    }

    /// <summary>Documents whose embeddings have been added so far.</summary>
    public int Added => _added;

    /// <summary>Adds the next C documents of the corpus, given as [C, H] embeddings (any floating dtype and device).</summary>
    public void Add(Tensor documents)
    {
        if (documents.dim() != 2 || documents.shape[1] != _queries.shape[1])
            throw new ArgumentException($"document embeddings must be [documents, {_queries.shape[1]}], got [{string.Join(", ", documents.shape)}].");
        int count = (int)documents.shape[0];
        if (_added + count > _docRank.Length)
            throw new ArgumentException($"the corpus has {_docRank.Length} documents; {_added} were added and this chunk brings {count} more.");
        using var scope = NewDisposeScope();
        CheckFinite(documents, $"document embeddings {_added}..{_added + count - 1}");
        var docs = documents.to(ScalarType.Float32).to(_queries.device);                                        // [C, H]
        for (long offset = 0; offset < count;)
        {
            long take = Math.Min(_blockSize - _pendingRows, count - offset);
            var rows = docs.narrow(0, offset, take);
            if (take == _blockSize) ScoreBlock(rows);    // a whole block straight from the chunk
            else
            {
                _pending.Add(rows.clone().DetachFromDisposeScope());
                _pendingRows += take;
                if (_pendingRows == _blockSize) ScorePending();
            }
            offset += take;
        }
        _added += count;
    }

    /// <summary>Per query (in row order), its top-k documents in <see cref="TrecOrder"/> with their cosine scores.</summary>
    public IReadOnlyList<ScoredDoc>[] Results()
    {
        if (_added != _docRank.Length)
            throw new InvalidOperationException($"the corpus has {_docRank.Length} documents but {_added} were added; add them all before reading results.");
        if (_pendingRows > 0) ScorePending();
        int queries = (int)_queries.shape[0];
        if (_bestKeys is null) return Enumerable.Range(0, queries).Select(_ => (IReadOnlyList<ScoredDoc>)[]).ToArray();
        using var scope = NewDisposeScope();
        int k = (int)_bestKeys.shape[1];
        var keys = _bestKeys.cpu().data<long>().ToArray();
        var scores = _bestScores!.cpu().data<float>().ToArray();
        var results = new IReadOnlyList<ScoredDoc>[queries];
        for (int q = 0; q < queries; q++)
        {
            var row = new List<ScoredDoc>(k);
            for (int i = 0; i < k && keys[q * k + i] != AboveCeiling; i++)
                row.Add(new ScoredDoc(_idsByRank[keys[q * k + i] & ((1L << DocBits) - 1)], scores[q * k + i]));
            results[q] = row;
        }
        return results;
    }

    /// <summary>Searches a corpus given as consecutive chunks of embeddings; see <see cref="ExactSearch"/>.</summary>
    public static IReadOnlyList<ScoredDoc>[] Search(Tensor queries, IReadOnlyList<string> documentIds, IEnumerable<Tensor> chunks, int topK)
    {
        using var search = new ExactSearch(queries, documentIds, topK);
        foreach (var chunk in chunks) search.Add(chunk);
        return search.Results();
    }

    public void Dispose()
    {
        _queries.Dispose();
        _ceilings?.Dispose();
        _pending.ForEach(t => t.Dispose());
        _bestKeys?.Dispose();
        _bestScores?.Dispose();
    }

    private void ScorePending()
    {
        using var scope = NewDisposeScope();
        var block = _pending.Count == 1 ? _pending[0] : cat(_pending, 0);
        ScoreBlock(block);
        _pending.ForEach(t => t.Dispose());
        _pending.Clear();
        _pendingRows = 0;
    }

    /// <summary>Scores the next block of documents (<see cref="_scored"/> onwards) and merges it into the best k.</summary>
    private void ScoreBlock(Tensor block)
    {
        int count = (int)block.shape[0];
        if (_queries.shape[0] > 0)
        {
            using var scope = NewDisposeScope();
            using var rankRange = (1L << DocBits).ToScalar();
            using var one = 1.ToScalar();
            using var aboveCeiling = AboveCeiling.ToScalar();
            var docs = nn.functional.normalize(block, p: 2, dim: 1);                                             // [B, H]
            var scores = _queries.matmul(docs.t());                                                              // [Q, B]
            var ranks = tensor(_docRank.AsSpan(_scored, count).ToArray(), device: _queries.device);              // [B]
            var keys = (SortKeys(scores) * rankRange).add(ranks.unsqueeze(0), alpha: one);                       // [Q, B]
            if (_ceilings is not null) keys = keys.masked_fill(scores > _ceilings, aboveCeiling);               // [Q, B] vs [Q, 1]
            if (_bestKeys is not null)
            {
                keys = cat([_bestKeys, keys], 1);                                                                // [Q, k' + B]
                scores = cat([_bestScores!, scores], 1);
            }
            var (bestKeys, index) = keys.topk((int)Math.Min(_topK, keys.shape[1]), dim: 1, largest: true, sorted: true);
            var bestScores = scores.gather(1, index);
            _bestKeys?.Dispose();
            _bestScores?.Dispose();
            _bestKeys = bestKeys.DetachFromDisposeScope();
            _bestScores = bestScores.DetachFromDisposeScope();
        }
        _scored += count;
    }

    /// <summary>
    /// int64 keys in the order of the float32 scores, equal scores (also −0 and +0) giving equal keys: with
    /// |s| = m·2^e, m in [0.5, 1), the magnitude is (e + 150)·2^24 + m·2^24 (exact; e ≥ −148 even for subnormals,
    /// so it is positive and below 2^33), signed like s, and 0 for s = 0.
    /// </summary>
    private static Tensor SortKeys(Tensor scores)
    {
        using var zero = 0.ToScalar();
        using var exponentBias = 150.ToScalar();
        using var mantissaScale = MantissaScale.ToScalar();
        using var one = 1.ToScalar();
        var (mantissa, exponent) = frexp(scores);
        var magnitude = (exponent.to(ScalarType.Int64).add(exponentBias, alpha: one) * mantissaScale)
            .add((mantissa.abs() * mantissaScale).to(ScalarType.Int64), alpha: one);
        return where(scores == zero, zeros_like(magnitude), where(mantissa < zero, -magnitude, magnitude));
    }

    private static void CheckFinite(Tensor embeddings, string what)
    {
        if (!isfinite(embeddings).all().item<bool>())
            throw new InvalidOperationException($"{what} hold NaN or infinite values; exact search needs finite embeddings.");
    }
}
