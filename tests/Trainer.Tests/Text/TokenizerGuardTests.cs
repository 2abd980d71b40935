using System.Text;
using Trainer.Tests.Cli;
using Trainer.Text;

namespace Trainer.Tests.Text;

/// <summary>A damaged or inconsistent tokenizer.model is one line naming the file, never a protobuf stack trace.</summary>
public class TokenizerGuardTests
{
    private static byte[] RealModel() => File.ReadAllBytes(Path.Combine(TestPaths.TinyMistral, "tokenizer.model"));

    public static TheoryData<string> Damages() => ["random-bytes", "truncated", "empty", "lfs-pointer"];

    private static byte[] Damaged(string damage) => damage switch
    {
        "random-bytes" => RandomBytes(4096),
        "truncated" => RealModel()[..(RealModel().Length / 2)],
        "empty" => [],
        _ => Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\noid sha256:0000\nsize 493443\n"),
    };

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(1).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void Damaged_tokenizer_model_through_tokenize_is_one_line_naming_the_file(string damage)
    {
        var modelDir = TestPaths.TempDir("bad-tokenizer");
        File.Copy(Path.Combine(TestPaths.TinyMistral, "config.json"), Path.Combine(modelDir, "config.json"));
        var tokenizerPath = Path.Combine(modelDir, "tokenizer.model");
        File.WriteAllBytes(tokenizerPath, Damaged(damage));
        var input = Path.Combine(modelDir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hello\"}\n");

        var result = CliRunner.Run("tokenize", "--model", modelDir, "--input", input, "--output", input + ".out");
        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {tokenizerPath}: ", error);
        Assert.False(File.Exists(input + ".out"));
    }

    [Fact]
    public void Inconsistent_models_name_the_file_and_what_is_wrong()
    {
        const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;
        (string, float, int)[] specials = [("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control)];
        void Fails(string expected, params (string, float, int)[] pieces)
        {
            var path = SentencePieceModelTests.WriteModel(pieces);
            var e = Assert.Throws<InvalidDataException>(() => SentencePieceBpe.Load(path));
            Assert.Equal($"{path}: {expected}", e.Message);
        }

        Fails("the tokenizer has no pieces; expected a SentencePiece tokenizer.model.");
        Fails("eos_id = 2 is outside the 2 pieces; the embedding tokenizer needs unk, BOS and EOS.", ("<unk>", 0, Unknown), ("<s>", 0, Control));
        Fails("piece 3 is empty.", [.. specials, ("", 0, Normal)]);
        Fails("piece 4 ('a') appears twice.", [.. specials, ("a", 0, Normal), ("a", -1, Normal)]);
        Fails("piece 3 ('a') has unknown type 9; expected 1 to 6.", [.. specials, ("a", 0, 9)]);
        Fails("byte piece 3 is '<0xZZ>'; expected <0xNN> with two hex digits.", [.. specials, ("<0xZZ>", 0, Byte)]);
        Assert.Equal(4, SentencePieceBpe.Load(SentencePieceModelTests.WriteModel([.. specials, ("a", 0, Normal)])).VocabSize);
    }
}
