using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Trainer.Export;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// What the exported graph makes of inputs that other stacks build: left padding (transformers.js pools the last
/// column) and a long text that a tokenizer cut after adding BOS and EOS (transformers.js' truncation drops the EOS)
/// give the same sentence_embedding as <c>trainer tokenize</c>'s right-padded rows.
/// </summary>
public class OnnxInputsTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private const int MaxLength = 24; // the fixture's training max_length

    private static float[][] Run(InferenceSession session, int[][] rows, bool leftPad)
    {
        int width = rows.Max(r => r.Length);
        var ids = new DenseTensor<long>([rows.Length, width]);
        var mask = new DenseTensor<long>([rows.Length, width]);
        for (int b = 0; b < rows.Length; b++)
        {
            int offset = leftPad ? width - rows[b].Length : 0;
            for (int s = 0; s < width; s++) ids[b, s] = 7; // any id in the padding
            for (int s = 0; s < rows[b].Length; s++)
            {
                ids[b, offset + s] = rows[b][s];
                mask[b, offset + s] = 1;
            }
        }
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("attention_mask", mask)]);
        var flat = results.First(r => r.Name == "sentence_embedding").AsEnumerable<float>().ToArray();
        int h = flat.Length / rows.Length;
        return Enumerable.Range(0, rows.Length).Select(b => flat[(b * h)..((b + 1) * h)]).ToArray();
    }

    [Fact]
    public void Left_padding_and_a_cut_off_eos_give_the_embedding_of_trainer_tokenize()
    {
        var export = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], TestPaths.TempDir("export-inputs")), TextWriter.Null);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var longText = string.Join(" ", Enumerable.Repeat("Vaccines expose the immune system to a harmless part of a pathogen.", 4));
        int[][] rows =
        [
            tokenizer.Encode(longText, "Find the abstract", MaxLength),
            tokenizer.Encode("short", null, MaxLength),
            tokenizer.Encode(longText, null, MaxLength),
        ];
        Assert.Equal(MaxLength, rows[0].Length);
        using var session = new InferenceSession(Path.Combine(export.OutputDir, "onnx", ExportJob.OnnxFile));
        var expected = Run(session, rows, leftPad: false);

        var left = Run(session, rows, leftPad: true);
        for (int b = 0; b < rows.Length; b++) Assert.True(Golden.MaxAbsDiff(expected[b], left[b]) <= 1e-5, $"left-padded row {b}: {Golden.MaxAbsDiff(expected[b], left[b])}");

        // As transformers.js truncates: BOS + the text's first max_length − 1 ids, no EOS; it differs from ours in its last id only.
        int[][] cut = [tokenizer.Encode(longText, "Find the abstract", MaxLength + 1)[..MaxLength], rows[1], tokenizer.Encode(longText, null, MaxLength + 1)[..MaxLength]];
        Assert.NotEqual(tokenizer.EosId, cut[0][^1]);
        Assert.Equal(rows[0][..^1], cut[0][..^1]);
        foreach (var leftPad in new[] { false, true })
        {
            var got = Run(session, cut, leftPad);
            for (int b = 0; b < rows.Length; b++) Assert.True(Golden.MaxAbsDiff(expected[b], got[b]) <= 1e-5, $"cut row {b} (left {leftPad})");
        }
        Assert.True(Golden.MaxAbsDiff(expected[0], expected[2]) > 1e-3); // the rows differ, so the comparisons mean something
    }
}
