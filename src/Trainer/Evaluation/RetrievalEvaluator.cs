using System.Diagnostics;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Evaluation;

/// <summary>
/// Embeds a BEIR split with a model and scores it: queries formatted with the instruction
/// (<see cref="EmbeddingTokenizer.Encode"/>), documents as they are (or with their own instruction), every text cut to max_length; exact cosine top-k
/// over the whole corpus (<see cref="ExactSearch"/>), then the measures of <see cref="RetrievalMetrics"/>.
/// <para>
/// The corpus is tokenized once and visited in order of length (shortest first, ties in file order), so each batch
/// pads little, and it is embedded <see cref="RetrievalEvaluationOptions.ChunkDocuments"/> documents at a time, each
/// round's embeddings handed to the search and dropped: memory holds one round of embeddings and the top-k, not the
/// corpus's vectors. A round is a whole number of batches, so the batches (and with them every embedding, to the last
/// bit, since a batch's padding width changes the float results) are those of one pass over the sorted corpus, and the
/// search scores fixed blocks: the results do not depend on the chunk size. They may depend on the batch size in the
/// last bits of the scores.
/// </para>
/// <para>
/// Embedding goes through <see cref="TextEmbedder"/>, inside an <see cref="InferenceScope"/>: a model in the middle of
/// training comes back in train mode with its dropout generator untouched, so evaluating during a run does not change
/// the run.
/// </para>
/// </summary>
public static class RetrievalEvaluator
{
    /// <param name="progress">Progress lines (documents done, rate, ETA) every few seconds, or null for none.</param>
    public static RetrievalEvaluation Evaluate(EmbeddingDecoder model, EmbeddingTokenizer tokenizer, BeirDataset data,
        RetrievalEvaluationOptions options, TextWriter? progress = null)
    {
        options.Validate();
        var queries = data.Queries.Take(options.MaxQueries ?? int.MaxValue).ToList();
        var embedder = new TextEmbedder(model, options.BatchSize);
        var clock = Stopwatch.StartNew();

        var queryRows = queries.Select(q => tokenizer.Encode(q.Text, options.Instruction, options.MaxLength)).ToList();
        var documentRows = data.Corpus.Select(d => tokenizer.Encode(d.Text, options.DocumentInstruction, options.MaxLength)).ToArray();
        var order = Enumerable.Range(0, documentRows.Length).OrderBy(i => documentRows[i].Length).ToArray(); // stable: ties in file order
        progress?.WriteLine($"eval {data.Split}: {queries.Count} queries, {documentRows.Length} documents, " +
                            $"{documentRows.Sum(r => (long)r.Length)} document tokens (tokenized in {clock.Elapsed.TotalSeconds:F1} s)");

        using var queryEmbeddings = EmbeddingMatrix.From(EmbeddingDimensions.Truncate(embedder.Embed(queryRows), options.Dimensions), model.Device);
        using var search = new ExactSearch(queryEmbeddings, order.Select(i => data.Corpus[i].Id).ToList(), options.TopK);
        var eta = new DocumentProgress(data.Split, order.Select(i => (long)documentRows[i].Length).ToArray(), progress);
        int chunkSize = (options.ChunkDocuments + options.BatchSize - 1) / options.BatchSize * options.BatchSize; // whole batches only
        for (int start = 0; start < order.Length; start += chunkSize)
        {
            var rows = order.Skip(start).Take(chunkSize).Select(i => documentRows[i]).ToList();
            using var chunk = EmbeddingMatrix.From(EmbeddingDimensions.Truncate(embedder.Embed(rows, inChunk => eta.Report(start + inChunk)), options.Dimensions), model.Device);
            search.Add(chunk);
        }
        double documentSeconds = eta.Finish();

        var results = search.Results();
        var run = queries.Select((q, i) => (q.Id, Docs: results[i])).ToDictionary(p => p.Id, p => p.Docs, StringComparer.Ordinal);
        var report = RetrievalMetrics.Evaluate(data.Qrels, run);
        return new RetrievalEvaluation(data.Split, report, queries.Select(q => q.Id).ToList(), results, documentRows.Length, documentSeconds);
    }
}
