using System.Text.Json;

namespace Trainer.Text.TokenizerJson;

/// <summary>
/// The <c>ByteLevel</c> pre-tokenizer. Its byte-to-character mapping (<see cref="ByteLevelAlphabet"/>) is done by
/// <see cref="BpeModel"/>, which works on UTF-8 bytes directly; here it only prepends a space to each piece that does not
/// start with one (<c>add_prefix_space</c>) and, with <c>use_regex</c>, splits it by GPT-2's pattern
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> (by code point, see
/// <see cref="CodePointRegex"/>). It must be the last pre-tokenizer: the model reads what it gives as bytes.
/// </summary>
public sealed class ByteLevelPreTokenizer : IPreTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly bool _addPrefixSpace;
    private readonly SplitPreTokenizer? _split;

    private ByteLevelPreTokenizer(bool addPrefixSpace, SplitPreTokenizer? split)
    {
        _addPrefixSpace = addPrefixSpace;
        _split = split;
    }

    /// <summary>True when the step changes nothing (Qwen and Llama 3: add_prefix_space and use_regex both false).</summary>
    public bool IsIdentity => !_addPrefixSpace && _split is null;

    public static ByteLevelPreTokenizer Read(TokenizerJsonReader file, JsonElement byteLevel, string key)
    {
        bool prefix = file.Bool(byteLevel, "add_prefix_space", key + ".add_prefix_space", absent: true);
        bool useRegex = file.Bool(byteLevel, "use_regex", key + ".use_regex", absent: true);
        var split = useRegex ? new SplitPreTokenizer(new CodePointRegex(SplitPreTokenizer.Compile(file, Gpt2Pattern, key), lettersEndMatches: true), removed: false) : null;
        return new ByteLevelPreTokenizer(prefix, split);
    }

    /// <summary>
    /// With use_regex, where GPT-2's pattern keeps the cut; without, never (the piece stays whole). With add_prefix_space
    /// only before a space: the part after the cut is no piece of its own for this step, so it must not gain a space.
    /// </summary>
    public bool KeepsCutBefore(char next) => _split is not null && _split.KeepsCutBefore(next) && (!_addPrefixSpace || next == ' ');

    public void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output)
    {
        if (_addPrefixSpace && (piece.Length == 0 || piece.Span[0] != ' ')) piece = (" " + piece.Span.ToString()).AsMemory();
        if (_split is null) output.Add(piece);
        else _split.Split(piece, output);
    }
}
