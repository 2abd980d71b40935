using Google.Protobuf;
using Trainer.Text;

namespace Trainer.Tests.Text;

public class SentencePieceModelTests
{
    /// <summary>A minimal BPE tokenizer.model written field by field (sentencepiece_model.proto numbers).</summary>
    internal static string WriteModel(params (string Piece, float Score, int Type)[] pieces)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var (piece, score, type) in pieces)
        {
            using var p = new MemoryStream();
            var po = new CodedOutputStream(p);
            po.WriteTag(1, WireFormat.WireType.LengthDelimited); po.WriteString(piece);
            po.WriteTag(2, WireFormat.WireType.Fixed32); po.WriteFloat(score);
            po.WriteTag(3, WireFormat.WireType.Varint); po.WriteEnum(type);
            po.Flush();
            output.WriteTag(1, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(p.ToArray()));
        }
        using var trainer = new MemoryStream();
        var to = new CodedOutputStream(trainer);
        to.WriteTag(3, WireFormat.WireType.Varint); to.WriteEnum(2); // BPE
        to.Flush();
        output.WriteTag(2, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(trainer.ToArray()));
        using var normalizer = new MemoryStream();
        var no = new CodedOutputStream(normalizer);
        no.WriteTag(1, WireFormat.WireType.LengthDelimited); no.WriteString("identity");
        no.WriteTag(4, WireFormat.WireType.Varint); no.WriteBool(false);
        no.Flush();
        output.WriteTag(3, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(normalizer.ToArray()));
        output.Flush();
        var path = Path.Combine(TestPaths.TempDir("spm"), "tokenizer.model");
        File.WriteAllBytes(path, buffer.ToArray());
        return path;
    }

    [Fact]
    public void Reads_the_fields_encoding_needs()
    {
        var model = SentencePieceModel.Parse(File.ReadAllBytes(Path.Combine(TestPaths.TinyMistral, "tokenizer.model")));
        Assert.Equal(32000, model.Pieces.Count);
        Assert.Equal((2, true, 0, 1, 2), (model.ModelType, model.ByteFallback, model.UnknownId, model.BosId, model.EosId));
        Assert.True(model.AddDummyPrefix);
        Assert.False(model.RemoveExtraWhitespaces);
        Assert.Equal(SentencePieceModel.PieceType.Byte, model.Pieces[3].Type); // <0x00>
    }

    [Fact]
    public void Unused_pieces_are_split_back_into_the_pieces_that_formed_them()
    {
        const int Normal = 1, Unknown = 2, Control = 3, Unused = 5;
        var path = WriteModel(("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control),
            ("\u2581", -1, Normal), ("a", -2, Normal), ("b", -3, Normal), ("ab", 0, Unused), ("c", -4, Normal), ("abc", -0.5f, Normal));
        var bpe = SentencePieceBpe.Load(path);
        Assert.Equal([1, 3, 4, 5], bpe.Encode("ab"));      // "ab" merges first (best score) but is unused: emitted as a, b
        Assert.Equal([1, 3, 8], bpe.Encode("abc"));        // an unused piece may still be an intermediate of a used one
        Assert.Equal([1, 3, 0], bpe.Encode("z"));          // no byte fallback here: unknown
    }
}
