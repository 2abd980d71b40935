using System.Diagnostics;
using System.Globalization;
using Trainer.Checkpointing;
using Trainer.Data;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Evaluation;

/// <summary>
/// Hard-negative mining in the manner of FlagEmbedding's <c>hn_mine</c>: embed the training queries and a corpus,
/// rank the corpus for each query by exact cosine similarity (<see cref="ExactSearch"/>), and replace each row's
/// negatives with <see cref="MineOptions.Negatives"/> documents sampled from ranks START+1 … END.
/// <list type="bullet">
/// <item>The corpus is a BEIR <c>corpus.jsonl</c> (each document's text built by <see cref="BeirDataset.DocumentText"/>,
/// as training positives are), or else the rows' own positives and negatives. Either way it is deduplicated by exact
/// text (the first occurrence kept; by the <see cref="DocumentLookup"/> that then finds the positives) and empty documents
/// are left out, so a text is ranked once.</item>
/// <item>A query is embedded with its row's instruction, else <see cref="MineOptions.Instruction"/>; documents with none.
/// Rows with the same query and instruction share one embedding.</item>
/// <item>Never a negative: a positive of the row, or of any row with the same query and instruction (SciFact has one
/// row per cited abstract), any document with the same text as one, or the query's own text. These are removed from
/// the ranking before ranks are counted, so a positive near the top does not shrink the window. A positive is found
/// in the corpus by <see cref="DocumentLookup"/>: exactly, else after normalising whitespace and the title/text join
/// (a positive written "title\ntext" is the document "title. text").</item>
/// <item>A positive found nowhere in the corpus cannot be excluded: a near copy of it may rank first. Such positives
/// are counted and the first few named (row and start of the text) in the log and the <see cref="Summary"/>; the row
/// is still written, with its positives as they are. A margin guard below skips a near copy whose score is within
/// the margin of the positive's (the positive is embedded on its own for its score).</item>
/// <item>The false-negative guards of sentence-transformers (<see cref="FalseNegativeGuard"/>, off by default) skip
/// candidates scoring above a ceiling: the positive's score minus <see cref="MineOptions.AbsoluteMargin"/>, times
/// (1 − <see cref="MineOptions.RelativeMargin"/>), or <see cref="MineOptions.MaxScore"/>. The positive's score is the
/// query's cosine to each of its positives, embedded on its own (so also a positive not in the corpus), and with several
/// positives (of the row, or of the rows sharing its query and instruction) the lowest: the ceiling is then the
/// strictest any of them gives, as the exclusions are shared too. Skipped candidates are removed before ranks are
/// counted, like the positives: <c>--range 10-100</c> samples from ranks 11–100 of the candidates that pass, so a guard
/// never empties the window while the corpus has candidates below the ceiling. (sentence-transformers also skips the
/// first range_min after its guards, but looks only at its top range_max, so its guards can leave a row short.)</item>
/// <item>Sampling is a partial Fisher–Yates shuffle driven by <see cref="DeterministicHash"/> of (seed, row index): the
/// same on every machine and independent of everything but the row's position and candidates. The sampled
/// negatives are written in rank order; a row with fewer candidates than wanted gets them all.</item>
/// </list>
/// The output is FlagEmbedding JSONL, one line per input row in input order: <c>query</c>, <c>pos</c> (the row's
/// positives), <c>neg</c> (the mined negatives, replacing the row's) and <c>instruction</c> when the row had its own.
/// It is written to a temporary file and renamed over the output (<see cref="JsonlOutput"/>).
/// </summary>
public static class HardNegativeMiner
{
    /// <summary>
    /// What a run did: rows written, distinct queries and documents embedded, rows with fewer negatives than asked,
    /// positives found in the corpus only after normalising (see <see cref="DocumentLookup"/>), positives not found
    /// at all and the first <see cref="MissingExamplesShown"/> of those (row and start of the text).
    /// </summary>
    public sealed record Summary(int Rows, int Queries, int Documents, int ShortRows, int NormalizedPositives, int MissingPositives,
        IReadOnlyList<string> MissingExamples);

    /// <summary>Positives not found in the corpus that the log and the summary name.</summary>
    public const int MissingExamplesShown = 5;

    public static Summary Mine(MineOptions options, TextWriter? log = null)
    {
        log ??= TextWriter.Null;
        options.Validate();
        if (!Directory.Exists(options.ModelDir)) throw new DirectoryNotFoundException($"Model folder not found: {options.ModelDir}");
        var config = ModelFamilies.Load(Path.Combine(options.ModelDir, PretrainedLoader.ConfigFile)).Config;
        var tokenizer = EmbeddingTokenizer.Load(options.ModelDir, config, options.PoolToken).WithTemplate(options.Template);

        var rows = TrainingDataReader.Read([options.InputPath], defaultInstruction: null, skipInvalid: false).Examples;
        if (rows.Count == 0) throw new InvalidDataException($"{options.InputPath}: no training rows.");
        var corpus = Corpus(options, rows, log);
        var documents = corpus.Documents;

        // distinct (query, instruction) pairs; each one's excluded documents, as indices into the corpus, and positives
        var queryIndex = new Dictionary<(string Text, string Instruction), int>();
        var queries = new List<(string Text, string Instruction)>();
        var excluded = new List<HashSet<int>>();
        var queryPositives = new List<HashSet<string>>();
        var rowQuery = new int[rows.Count];
        int normalized = 0;
        var missing = new List<string>();
        for (int r = 0; r < rows.Count; r++)
        {
            var key = (rows[r].Query, rows[r].Instruction ?? options.Instruction ?? "");
            if (!queryIndex.TryGetValue(key, out int q))
            {
                queryIndex[key] = q = queries.Count;
                queries.Add(key);
                excluded.Add(corpus.IndexOf(key.Query) is var self and >= 0 ? [self] : []);
                queryPositives.Add(new HashSet<string>(StringComparer.Ordinal));
            }
            rowQuery[r] = q;
            foreach (var positive in rows[r].Positives)
            {
                queryPositives[q].Add(positive);
                var (d, how) = corpus.Find(positive);
                if (how == DocumentLookup.Match.None) missing.Add($"{rows[r].Source}: \"{Start(positive)}\"");
                else excluded[q].Add(d);
                if (how == DocumentLookup.Match.Normalized) normalized++;
            }
        }
        ReportPositives(options, normalized, missing, log);
        // enough ranked documents that removing the excluded ones still leaves the whole window
        int topK = options.RangeEnd + excluded.Max(e => e.Count);

        log.WriteLine($"mine: {rows.Count} rows, {queries.Count} distinct queries, {documents.Count} documents; " +
                      $"sampling {options.Negatives} negative(s) per row from ranks {options.RangeStart + 1}-{options.RangeEnd}");
        var rankings = Rank(options, tokenizer, queries, queryPositives, documents, topK, log);

        int shortRows = 0;
        using (var output = JsonlOutput.Create(options.OutputPath))
        {
            for (int r = 0; r < rows.Count; r++)
            {
                int q = rowQuery[r];
                var candidates = rankings[q]
                    .Select(doc => int.Parse(doc.DocId, CultureInfo.InvariantCulture))
                    .Where(d => !excluded[q].Contains(d))
                    .Skip(options.RangeStart)
                    .Take(options.RangeEnd - options.RangeStart)
                    .ToList();
                var negatives = Sample(candidates, options.Negatives, options.Seed, r);
                if (negatives.Count < options.Negatives) shortRows++;
                Write(output, rows[r], negatives.Select(d => documents[d]));
            }
            output.Commit();
        }
        if (shortRows > 0)
            log.WriteLine($"mine: {shortRows} row(s) had fewer than {options.Negatives} candidates in ranks {options.RangeStart + 1}-{options.RangeEnd}" +
                          $"{(options.Guard.IsOn ? " of those the guards let through" : "")} and got all they had");
        return new Summary(rows.Count, queries.Count, documents.Count, shortRows, normalized, missing.Count, missing.Take(MissingExamplesShown).ToList());
    }

    /// <summary>Logs the positives found only after normalising, and warns of those not found, naming the first few.</summary>
    private static void ReportPositives(MineOptions options, int normalized, List<string> missing, TextWriter log)
    {
        string source = options.CorpusPath ?? $"the positives and negatives of {options.InputPath}";
        if (normalized > 0)
            log.WriteLine($"mine: {normalized} positive(s) matched a document of {source} only after normalising whitespace or the title/text join (\"title\\ntext\" as \"title. text\"); they are excluded as usual");
        if (missing.Count == 0) return;
        log.WriteLine($"mine: warning: {missing.Count} positive(s) are not in {source}, so nothing is excluded as theirs and a near copy may be mined as a negative; " +
                      $"first {Math.Min(missing.Count, MissingExamplesShown)}: {string.Join("; ", missing.Take(MissingExamplesShown))}. " +
                      "Write positives as the corpus does (BEIR documents read \"title. text\"), or skip candidates that score near the positive with --absolute-margin or --relative-margin.");
    }

    /// <summary>The start of a text for a message: whitespace runs as one space, at most 40 characters.</summary>
    private static string Start(string text)
    {
        string flat = DocumentLookup.Normalize(text);
        return flat.Length <= 40 ? flat : flat[..40] + "…";
    }

    /// <summary>
    /// <paramref name="count"/> of the <paramref name="candidates"/> (all of them when there are no more), chosen by a
    /// partial Fisher–Yates shuffle whose draws are <see cref="DeterministicHash"/>es of (seed, row, draw), returned in
    /// the candidates' order.
    /// </summary>
    public static IReadOnlyList<T> Sample<T>(IReadOnlyList<T> candidates, int count, int seed, int row)
    {
        if (candidates.Count <= count) return candidates;
        var order = Enumerable.Range(0, candidates.Count).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = i + (int)(DeterministicHash.Mix(seed, row, i) % (ulong)(order.Length - i));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var chosen = order[..count];
        Array.Sort(chosen);
        return chosen.Select(i => candidates[i]).ToList();
    }

    /// <summary>The corpus texts, deduplicated by exact text, without empty ones; the lookup that deduplicated them finds the positives.</summary>
    private static DocumentLookup Corpus(MineOptions options, List<TrainingExample> rows, TextWriter log)
    {
        var texts = options.CorpusPath is { } path
            ? BeirDataset.ReadCorpus(path).Select(d => d.Text)
            : rows.SelectMany(r => r.Positives.Concat(r.Negatives));
        var corpus = new DocumentLookup();
        int empty = 0, duplicates = 0;
        foreach (var text in texts)
        {
            if (string.IsNullOrWhiteSpace(text)) empty++;
            else if (!corpus.Add(text)) duplicates++;
        }
        string source = options.CorpusPath ?? $"the positives and negatives of {options.InputPath}";
        if (corpus.Documents.Count == 0) throw new InvalidDataException($"{source}: no documents to mine from.");
        if (empty + duplicates > 0)
            log.WriteLine($"mine: {source}: {corpus.Documents.Count} distinct documents ({duplicates} exact-text duplicate(s) and {empty} empty document(s) left out)");
        return corpus;
    }

    /// <summary>Embeds the queries, then the corpus chunk by chunk into an <see cref="ExactSearch"/>; each query's top-k.</summary>
    private static IReadOnlyList<ScoredDoc>[] Rank(MineOptions options, EmbeddingTokenizer tokenizer, List<(string Text, string Instruction)> queries,
        List<HashSet<string>> queryPositives, IReadOnlyList<string> documents, int topK, TextWriter log)
    {
        var adapter = options.AdapterDir is { } a ? CheckpointStore.Resolve(a, log, allowPlainAdapter: true) : null;
        var device = DTypes.ParseDevice(options.Device, "--device");
        using var model = PretrainedLoader.Load(options.ModelDir, DTypes.Parse(options.DType, "--dtype"), device,
            adapter is null ? null : PeftAdapter.ReadSettings(adapter));
        if (adapter is not null) PeftAdapter.Load(adapter, model);
        var embedder = new TextEmbedder(model, options.BatchSize);

        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        int lastDone = -1;
        void Report(string what, int done, int total, bool force = false)
        {
            if (done == lastDone || (!force && (clock.Elapsed - lastReport).TotalSeconds < 2)) return;
            (lastReport, lastDone) = (clock.Elapsed, done);
            log.WriteLine($"mine: {what} {done}/{total} ({100.0 * done / total:F1}%), {done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F1}/s");
        }

        var queryVectors = embedder.Embed(queries.Select(q => tokenizer.Encode(q.Text, q.Instruction, options.MaxLength)).ToList(),
            done => Report("queries", done, queries.Count));
        Report("queries", queries.Count, queries.Count, force: true);
        var ceilings = Ceilings(options, queryVectors, queryPositives, texts =>
        {
            clock.Restart();
            (lastReport, lastDone) = (TimeSpan.Zero, -1);
            var vectors = embedder.Embed(texts.Select(text => tokenizer.Encode(text, null, options.MaxLength)).ToList(), done => Report("positives", done, texts.Count));
            Report("positives", texts.Count, texts.Count, force: true);
            return vectors;
        }, log);
        clock.Restart();
        (lastReport, lastDone) = (TimeSpan.Zero, -1);

        using var scope = NewDisposeScope();
        var ids = Enumerable.Range(0, documents.Count).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToList();
        using var search = new ExactSearch(EmbeddingMatrix.From(queryVectors, device), ids, topK, ceilings: ceilings);
        foreach (var chunk in documents.Chunk(options.ChunkDocuments))
        {
            using var chunkScope = NewDisposeScope();
            int before = search.Added;
            var vectors = embedder.Embed(chunk.Select(text => tokenizer.Encode(text, null, options.MaxLength)).ToList(),
                done => Report("documents", before + done, documents.Count));
            search.Add(EmbeddingMatrix.From(vectors));
        }
        Report("documents", documents.Count, documents.Count, force: true);
        return search.Results();
    }

    /// <summary>
    /// Per query, the <see cref="FalseNegativeGuard"/> ceiling, with the lowest cosine (in double precision) of the query
    /// to its positives, each embedded on its own by <paramref name="embed"/>; null when no guard is set.
    /// </summary>
    private static double[]? Ceilings(MineOptions options, float[][] queryVectors, List<HashSet<string>> queryPositives,
        Func<List<string>, float[][]> embed, TextWriter log)
    {
        var guard = options.Guard;
        if (!guard.IsOn) return null;
        log.WriteLine($"mine: skipping candidates with {guard.Describe()}" + (guard.UsesPositiveScore ? " (positive: the query's lowest-scoring positive)" : ""));
        if (!guard.UsesPositiveScore) return queryVectors.Select(_ => guard.Ceiling(double.NaN)).ToArray();
        var texts = queryPositives.SelectMany(p => p).Distinct(StringComparer.Ordinal).ToList();
        var index = texts.Select((text, i) => (text, i)).ToDictionary(p => p.text, p => p.i, StringComparer.Ordinal);
        var vectors = embed(texts);
        return Enumerable.Range(0, queryVectors.Length)
            .Select(q => guard.Ceiling(queryPositives[q].Min(p => Cosine(queryVectors[q], vectors[index[p]]))))
            .ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) (dot, na, nb) = (dot + (double)a[i] * b[i], na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>
    /// One FlagEmbedding line. <see cref="JsonlOutput.WriteLine"/> opens the object with its first property,
    /// <c>query</c>; the callback writes that value and the properties after it.
    /// </summary>
    private static void Write(JsonlOutput output, TrainingExample row, IEnumerable<string> negatives) =>
        output.WriteLine(null, "query", writer =>
        {
            writer.WriteStringValue(row.Query);
            writer.WriteStartArray("pos");
            foreach (var positive in row.Positives) writer.WriteStringValue(positive);
            writer.WriteEndArray();
            writer.WriteStartArray("neg");
            foreach (var negative in negatives) writer.WriteStringValue(negative);
            writer.WriteEndArray();
            if (row.Instruction is { } instruction) writer.WriteString("instruction", instruction);
        });
}
