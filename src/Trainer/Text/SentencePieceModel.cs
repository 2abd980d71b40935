using Google.Protobuf;

namespace Trainer.Text;

/// <summary>
/// The parts of a SentencePiece <c>tokenizer.model</c> (a <c>ModelProto</c> message) that encoding needs, read with
/// Google.Protobuf's wire reader. Microsoft.ML.Tokenizers parses the same message but keeps its classes internal.
/// Field numbers are those of sentencepiece_model.proto; absent fields take that file's proto2 defaults.
/// </summary>
public sealed class SentencePieceModel
{
    public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    public sealed record Piece(string Text, float Score, PieceType Type);

    public List<Piece> Pieces { get; } = [];
    public int ModelType { get; private set; } = 1;       // TrainerSpec.model_type (3): 1 unigram, 2 BPE
    public bool ByteFallback { get; private set; }         // TrainerSpec.byte_fallback (35)
    public int UnknownId { get; private set; }             // TrainerSpec.unk_id (40)
    public int BosId { get; private set; } = 1;            // TrainerSpec.bos_id (41)
    public int EosId { get; private set; } = 2;            // TrainerSpec.eos_id (42)
    public string NormalizerName { get; private set; } = "";             // NormalizerSpec.name (1)
    public int PrecompiledCharsmapLength { get; private set; }           // NormalizerSpec.precompiled_charsmap (2)
    public bool AddDummyPrefix { get; private set; } = true;             // NormalizerSpec.add_dummy_prefix (3)
    public bool RemoveExtraWhitespaces { get; private set; } = true;     // NormalizerSpec.remove_extra_whitespaces (4)
    public bool EscapeWhitespaces { get; private set; } = true;          // NormalizerSpec.escape_whitespaces (5)

    public static SentencePieceModel Parse(byte[] bytes)
    {
        var model = new SentencePieceModel();
        var input = new CodedInputStream(bytes);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: model.Pieces.Add(ReadPiece(input.ReadBytes())); break;
                case 2: model.ReadTrainerSpec(input.ReadBytes()); break;
                case 3: model.ReadNormalizerSpec(input.ReadBytes()); break;
                default: input.SkipLastField(); break;
            }
        }
        return model;
    }

    /// <summary>
    /// Checks what a parse cannot: at least one piece, no empty or repeated piece, known piece types, byte pieces
    /// spelled <c>&lt;0xNN&gt;</c>, and unk/BOS/EOS ids that name pieces. Failures name <paramref name="source"/>.
    /// </summary>
    public void Validate(string source)
    {
        if (Pieces.Count == 0) throw new InvalidDataException($"{source}: the tokenizer has no pieces; expected a SentencePiece tokenizer.model.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int id = 0; id < Pieces.Count; id++)
        {
            var piece = Pieces[id];
            if (piece.Text.Length == 0) throw new InvalidDataException($"{source}: piece {id} is empty.");
            if (!Enum.IsDefined(piece.Type)) throw new InvalidDataException($"{source}: piece {id} ('{piece.Text}') has unknown type {(int)piece.Type}; expected 1 to 6.");
            if (piece.Type == PieceType.Byte && !IsBytePiece(piece.Text))
                throw new InvalidDataException($"{source}: byte piece {id} is '{piece.Text}'; expected <0xNN> with two hex digits.");
            if (!seen.Add(piece.Text)) throw new InvalidDataException($"{source}: piece {id} ('{piece.Text}') appears twice.");
        }
        foreach (var (name, id) in new[] { ("unk_id", UnknownId), ("bos_id", BosId), ("eos_id", EosId) })
        {
            if (id < 0 || id >= Pieces.Count)
                throw new InvalidDataException($"{source}: {name} = {id} is outside the {Pieces.Count} pieces; the embedding tokenizer needs unk, BOS and EOS.");
        }
    }

    private static bool IsBytePiece(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' && char.IsAsciiHexDigit(text[3]) && char.IsAsciiHexDigit(text[4]);

    private static Piece ReadPiece(ByteString bytes)
    {
        string text = "";
        float score = 0;
        var type = PieceType.Normal;
        var input = bytes.CreateCodedInput();
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: text = input.ReadString(); break;
                case 2: score = input.ReadFloat(); break;
                case 3: type = (PieceType)input.ReadEnum(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new Piece(text, score, type);
    }

    private void ReadTrainerSpec(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 3: ModelType = input.ReadEnum(); break;
                case 35: ByteFallback = input.ReadBool(); break;
                case 40: UnknownId = input.ReadInt32(); break;
                case 41: BosId = input.ReadInt32(); break;
                case 42: EosId = input.ReadInt32(); break;
                default: input.SkipLastField(); break;
            }
        }
    }

    private void ReadNormalizerSpec(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: NormalizerName = input.ReadString(); break;
                case 2: PrecompiledCharsmapLength = input.ReadBytes().Length; break;
                case 3: AddDummyPrefix = input.ReadBool(); break;
                case 4: RemoveExtraWhitespaces = input.ReadBool(); break;
                case 5: EscapeWhitespaces = input.ReadBool(); break;
                default: input.SkipLastField(); break;
            }
        }
    }
}
