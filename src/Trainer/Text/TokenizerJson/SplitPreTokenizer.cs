using System.Text.Json;
using System.Text.RegularExpressions;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// The <c>Split</c> pre-tokenizer: a pattern's matches, and the text between them, become pieces (behavior
/// <c>Isolated</c>), or only the text between them does (<c>Removed</c>). The Qwen and Llama 3 patterns are matched by
/// <see cref="GptSplitScanner"/>, any other by <see cref="CodePointRegex"/>; a plain string pattern is matched literally.
/// </summary>
public sealed class SplitPreTokenizer : IPreTokenizer
{
    private readonly IPatternMatcher _matcher;
    private readonly bool _removed;
    [ThreadStatic] private static List<(int Start, int End)>? _matches;

    public SplitPreTokenizer(IPatternMatcher matcher, bool removed)
    {
        _matcher = matcher;
        _removed = removed;
    }

    public static SplitPreTokenizer Read(TokenizerJsonReader file, JsonElement split, string key)
    {
        var pattern = file.Object(split, "pattern", key + ".pattern");
        string behavior = file.String(split, "behavior", key + ".behavior");
        if (behavior is not ("Isolated" or "Removed"))
            throw file.Unsupported(key + ".behavior", $"is '{behavior}'; only Isolated and Removed are implemented");
        if (file.Bool(split, "invert", key + ".invert", absent: false))
            throw file.Unsupported(key + ".invert", "is true");

        IPatternMatcher matcher;
        if (pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
        {
            string source = regex.GetString()!;
            matcher = (IPatternMatcher?)GptSplitScanner.For(source)
                ?? new CodePointRegex(Compile(file, source, key + ".pattern.Regex"), lettersEndMatches: source == ByteLevelPreTokenizer.Gpt2Pattern);
        }
        else if (pattern.TryGetProperty("String", out var literal) && literal.ValueKind == JsonValueKind.String)
        {
            matcher = new CodePointRegex(Compile(file, Regex.Escape(literal.GetString()!), key + ".pattern.String"));
        }
        else
        {
            throw file.Error(key + ".pattern", "has neither a Regex nor a String");
        }
        return new SplitPreTokenizer(matcher, behavior == "Removed");
    }

    public static Regex Compile(TokenizerJsonReader file, string pattern, string key)
    {
        try
        {
            return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw file.Unsupported(key, $"('{pattern}') is not a pattern .NET can run ({e.Message})");
        }
    }

    /// <summary>A match boundary between a letter and what follows it, when the matcher promises one (Isolated and Removed alike).</summary>
    public bool KeepsCutBefore(char next) => _matcher.LettersEndMatches;

    public void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output)
    {
        var matches = _matches ??= [];
        matches.Clear();
        _matcher.Matches(piece.Span, matches);
        int offset = 0;
        foreach (var (start, end) in matches)
        {
            if (end == start) continue;
            if (start > offset) output.Add(piece[offset..start]);
            if (!_removed) output.Add(piece[start..end]);
            offset = end;
        }
        if (offset < piece.Length) output.Add(piece[offset..]);
    }
}
