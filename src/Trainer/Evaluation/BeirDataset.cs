using System.Globalization;
using System.Text.Json;
using Trainer.Data;

namespace Trainer.Evaluation;

/// <summary>
/// A BEIR dataset folder read for one split: <c>corpus.jsonl</c> (<c>_id</c>, optional <c>title</c> and <c>text</c>),
/// <c>queries.jsonl</c> (<c>_id</c>, <c>text</c>) and <c>qrels/SPLIT.tsv</c> (a header line <c>query-id, corpus-id, score</c>, tab-separated,
/// then one graded judgment per line). As in BEIR's loader, only queries that have qrels lines in the split are kept.
/// A qrels line may name a document that is not in the corpus: like BEIR and trec_eval, it still counts as relevant
/// (no run can retrieve it). Any other problem stops the load with <c>file:line</c> and the reason.
/// Everything is held in memory.
/// </summary>
public sealed class BeirDataset
{
    private const string QrelsHeader = "query-id\tcorpus-id\tscore";

    /// <summary>What Python's <c>str.strip()</c> removes: .NET's white space plus U+001C..U+001F.</summary>
    private static readonly char[] PythonWhitespace =
        "\t\n\v\f\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000".ToCharArray();

    private BeirDataset(string split, IReadOnlyList<BeirRecord> corpus, IReadOnlyList<BeirRecord> queries,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels)
    {
        (Split, Corpus, Queries, Qrels) = (split, corpus, queries, qrels);
    }

    public string Split { get; }

    /// <summary>The documents in file order; <see cref="BeirRecord.Text"/> is <see cref="DocumentText"/>.</summary>
    public IReadOnlyList<BeirRecord> Corpus { get; }

    /// <summary>The queries that have qrels in this split, in the order of <c>queries.jsonl</c>.</summary>
    public IReadOnlyList<BeirRecord> Queries { get; }

    /// <summary>Query id → document id → graded relevance, the queries in the order of <see cref="Queries"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels { get; }

    /// <summary>
    /// A document's text exactly as <c>scripts/beir_to_jsonl.py</c> builds training positives: title and text each
    /// stripped (Python's <c>str.strip</c>); the text alone when the title is empty; else the title, a ". " (or only
    /// " " when the title already ends in '.', '?' or '!') and the text.
    /// </summary>
    public static string DocumentText(string? title, string? text)
    {
        string t = (title ?? "").Trim(PythonWhitespace), body = (text ?? "").Trim(PythonWhitespace);
        if (t.Length == 0) return body;
        return t.EndsWith('.') || t.EndsWith('?') || t.EndsWith('!') ? $"{t} {body}" : $"{t}. {body}";
    }

    /// <summary>The files a split is read from, each with what it is: the corpus, the queries and the split's qrels.</summary>
    public static IEnumerable<(string What, string Path)> Files(string folder, string split) =>
    [
        ("corpus", Path.Combine(folder, "corpus.jsonl")),
        ("queries", Path.Combine(folder, "queries.jsonl")),
        ("qrels", Path.Combine(folder, "qrels", split + ".tsv")),
    ];

    public static BeirDataset Load(string folder, string split)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"BEIR dataset folder not found: {folder}");
        var qrelsPath = Path.Combine(folder, "qrels", split + ".tsv");
        if (!File.Exists(qrelsPath))
        {
            var qrelsFolder = Path.Combine(folder, "qrels");
            var splits = Directory.Exists(qrelsFolder)
                ? Directory.GetFiles(qrelsFolder, "*.tsv").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList()
                : [];
            throw new FileNotFoundException(
                $"{qrelsPath} not found; the splits in {qrelsFolder} are: {(splits.Count == 0 ? "none" : string.Join(", ", splits))}.", qrelsPath);
        }

        var corpus = ReadCorpus(Path.Combine(folder, "corpus.jsonl"));

        var queries = new List<BeirRecord>();
        var queryIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (where, fields) in JsonlObjects(Path.Combine(folder, "queries.jsonl")))
        {
            string id = Id(fields, where);
            if (!queryIds.Add(id)) throw new InvalidDataException($"{where}: query id \"{id}\" appears twice; ids must be unique.");
            var text = OptionalString(fields, "text", where) ?? throw new InvalidDataException($"{where}: missing key \"text\".");
            if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{where}: query \"{id}\" has an empty or whitespace-only text.");
            queries.Add(new BeirRecord(id, text));
        }

        var judged = ReadQrels(qrelsPath, queryIds);
        var kept = queries.Where(q => judged.ContainsKey(q.Id)).ToList();
        var qrels = kept.ToDictionary(q => q.Id, q => (IReadOnlyDictionary<string, int>)judged[q.Id], StringComparer.Ordinal);
        return new BeirDataset(split, corpus, kept, qrels);
    }

    /// <summary>A <c>corpus.jsonl</c> alone: its documents in file order, ids unique, text as <see cref="DocumentText"/>.</summary>
    public static IReadOnlyList<BeirRecord> ReadCorpus(string path)
    {
        var corpus = new List<BeirRecord>();
        var corpusIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (where, fields) in JsonlObjects(path))
        {
            string id = Id(fields, where);
            if (!corpusIds.Add(id)) throw new InvalidDataException($"{where}: document id \"{id}\" appears twice; ids must be unique.");
            corpus.Add(new BeirRecord(id, DocumentText(OptionalString(fields, "title", where), OptionalString(fields, "text", where))));
        }
        if (corpus.Count == 0) throw new InvalidDataException($"{path}: no documents; a corpus needs at least one line {{\"_id\", \"title\", \"text\"}}.");
        return corpus;
    }

    private static Dictionary<string, Dictionary<string, int>> ReadQrels(string path, HashSet<string> queryIds)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var firstLine = new Dictionary<(string, string), int>();
        bool header = false;
        foreach (var line in Utf8Lines.Read(path))
        {
            string where = $"{path}:{line.Number}";
            string text = line.TextOrThrow(where);
            if (!header)
            {
                if (text != QrelsHeader)
                    throw new InvalidDataException($"{where}: expected the header line \"query-id<TAB>corpus-id<TAB>score\", found \"{Shorten(text)}\".");
                header = true;
                continue;
            }
            if (string.IsNullOrWhiteSpace(text)) continue;
            var fields = text.Split('\t');
            if (fields.Length != 3)
                throw new InvalidDataException($"{where}: expected 3 tab-separated fields (query-id, corpus-id, score), found {fields.Length}.");
            string queryId = fields[0], docId = fields[1];
            if (queryId.Length == 0 || docId.Length == 0) throw new InvalidDataException($"{where}: empty query-id or corpus-id.");
            if (!int.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int score))
                throw new InvalidDataException($"{where}: score \"{Shorten(fields[2])}\" is not an integer relevance grade.");
            if (!queryIds.Contains(queryId)) throw new InvalidDataException($"{where}: query id \"{queryId}\" is not in queries.jsonl.");
            if (firstLine.TryGetValue((queryId, docId), out int earlier))
                throw new InvalidDataException($"{where}: query \"{queryId}\" and document \"{docId}\" were already judged on line {earlier}.");
            firstLine[(queryId, docId)] = line.Number;
            if (!qrels.TryGetValue(queryId, out var docs)) qrels[queryId] = docs = new Dictionary<string, int>(StringComparer.Ordinal);
            docs[docId] = score;
        }
        if (!header) throw new InvalidDataException($"{path}: empty file; expected the header line \"query-id<TAB>corpus-id<TAB>score\".");
        if (qrels.Count == 0) throw new InvalidDataException($"{path}: no judgments after the header line.");
        return qrels;
    }

    /// <summary>The objects of a JSONL file, one per non-blank line, as key → value (a key may appear once).</summary>
    private static IEnumerable<(string Where, Dictionary<string, JsonElement> Fields)> JsonlObjects(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"BEIR file not found: {path}", path);
        foreach (var line in Utf8Lines.Read(path))
        {
            string where = $"{path}:{line.Number}";
            string text = line.TextOrThrow(where);
            if (string.IsNullOrWhiteSpace(text)) continue;
            yield return (where, JsonObjectLine.Parse(text, where));
        }
    }

    /// <summary>The <c>_id</c>: a non-empty string without white space (a TREC run file separates fields by it).</summary>
    private static string Id(Dictionary<string, JsonElement> fields, string where)
    {
        string id = OptionalString(fields, "_id", where) ?? throw new InvalidDataException($"{where}: missing key \"_id\".");
        if (id.Length == 0) throw new InvalidDataException($"{where}: \"_id\" is empty.");
        if (id.Any(char.IsWhiteSpace)) throw new InvalidDataException($"{where}: \"_id\" \"{Shorten(id)}\" contains white space, which a TREC run file cannot hold.");
        return id;
    }

    private static string? OptionalString(Dictionary<string, JsonElement> fields, string key, string where)
    {
        if (!fields.TryGetValue(key, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: \"{key}\" must be a string, got {value.ValueKind.ToString().ToLowerInvariant()}.");
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"{where}: \"{key}\" is not a valid string ({e.Message})");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
