namespace Trainer.Evaluation;

/// <summary>
/// The corpus documents, and where a text is among them. <see cref="Find"/> finds a training row's positive: by exact
/// text first, else by the text with every run of whitespace made one space and the ends trimmed, else (a positive with a
/// line break) by its first line as a title and the rest as the text, joined as <see cref="BeirDataset.DocumentText"/>
/// joins corpus documents ("title\ntext" is the document "title. text"). A text shared by several documents (exactly or
/// once normalised) finds the first. One exact-text index serves <see cref="Add"/>'s deduplication, <see cref="IndexOf"/>
/// and <see cref="Find"/>.
/// </summary>
public sealed class DocumentLookup
{
    private readonly List<string> _documents = [];
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _normalized = new(StringComparer.Ordinal);

    /// <summary>How a positive was found.</summary>
    public enum Match { Exact, Normalized, None }

    /// <summary>An empty corpus, filled with <see cref="Add"/>.</summary>
    public DocumentLookup()
    {
    }

    /// <summary>The <paramref name="documents"/> as they are: a document's index is its position in the list.</summary>
    public DocumentLookup(IReadOnlyList<string> documents)
    {
        foreach (var document in documents) Append(document);
    }

    /// <summary>The documents; <see cref="Find"/> and <see cref="IndexOf"/> give positions in this list.</summary>
    public IReadOnlyList<string> Documents => _documents;

    /// <summary>Appends <paramref name="document"/> unless a document has its exact text; returns whether it was appended.</summary>
    public bool Add(string document)
    {
        if (_exact.ContainsKey(document)) return false;
        Append(document);
        return true;
    }

    /// <summary>The first document whose text is exactly <paramref name="text"/>, or −1.</summary>
    public int IndexOf(string text) => _exact.GetValueOrDefault(text, -1);

    /// <summary>The document <paramref name="text"/> is, and how it was matched (−1 and <see cref="Match.None"/> when none).</summary>
    public (int Document, Match How) Find(string text)
    {
        if (_exact.TryGetValue(text, out int d)) return (d, Match.Exact);
        if (_normalized.TryGetValue(Normalize(text), out d)) return (d, Match.Normalized);
        string trimmed = text.Trim();
        int lineBreak = trimmed.IndexOf('\n', StringComparison.Ordinal);
        if (lineBreak > 0 && _normalized.TryGetValue(Normalize(BeirDataset.DocumentText(trimmed[..lineBreak], trimmed[(lineBreak + 1)..])), out d))
            return (d, Match.Normalized);
        return (-1, Match.None);
    }

    /// <summary>The text with each run of whitespace made one space, without leading or trailing whitespace.</summary>
    public static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private void Append(string document)
    {
        _exact.TryAdd(document, _documents.Count);
        _normalized.TryAdd(Normalize(document), _documents.Count);
        _documents.Add(document);
    }
}
