namespace Trainer.Text.TokenizerJson;

/// <summary>
/// GPT-2's byte-to-character table, which byte-level BPE vocabularies are written in: the printable bytes ('!'..'~',
/// '¡'..'¬', '®'..'ÿ') stand for themselves and the other 68 take U+0100 onwards in byte order (so a space is 'Ġ',
/// U+0120, and a newline 'Ċ', U+010A).
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();

    public static char Char(byte b) => ByteToChar[b];

    private static char[] Build()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}
