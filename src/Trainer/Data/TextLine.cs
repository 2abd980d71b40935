namespace Trainer.Data;

/// <summary>
/// One line of a text file read by <see cref="Utf8Lines"/>: its 1-based number and its text, or, when its bytes are
/// not valid UTF-8, a null text and the 1-based byte (within the line) where decoding failed.
/// </summary>
public readonly record struct TextLine(int Number, string? Text, int InvalidByte)
{
    /// <summary>The text, or an <see cref="InvalidDataException"/> naming <paramref name="where"/> and the bad byte.</summary>
    public string TextOrThrow(string where) =>
        Text ?? throw new InvalidDataException($"{where}: invalid UTF-8 at byte {InvalidByte} of the line; the file must be UTF-8 encoded.");
}
