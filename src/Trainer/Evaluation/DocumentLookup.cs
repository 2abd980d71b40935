namespace Trainer.Evaluation;

/// <summary>
/// Finds a training row's positive among the corpus documents: by exact text first, else by the text with every run of
/// whitespace made one space and the ends trimmed, else (a positive with a line break) by its first line as a title and
/// the rest as the text, joined as <see cref="BeirDataset.DocumentText"/> joins corpus documents ("title\ntext" is the
/// document "title. text"). A normalised text shared by several documents finds the first.
/// </summary>
public sealed class DocumentLookup
{
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _normalized = new(StringComparer.Ordinal);

    /// <summary>How a positive was found.</summary>
    public enum Match { Exact, Normalized, None }

    public DocumentLookup(IReadOnlyList<string> documents)
    {
        for (int d = 0; d < documents.Count; d++)
        {
            _exact.TryAdd(documents[d], d);
            _normalized.TryAdd(Normalize(documents[d]), d);
        }
    }

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
}
