using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Trainer.Export;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// What the exported graph makes of inputs that other stacks build: left padding, and a long text that a tokenizer cut
/// after adding BOS and EOS (transformers.js' truncation drops the EOS), give the same sentence_embedding as
/// <c>trainer tokenize</c>'s right-padded rows; and the last column of last_hidden_state (what transformers.js'
/// last_token pooling reads) is the EOS state with either padding.
/// </summary>
public class OnnxInputsTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private const int MaxLength = 24; // the fixture's training max_length

    /// <summary>sentence_embedding per row, and the last column of last_hidden_state L2-normalised (transformers.js' last_token + normalize).</summary>
    private static (float[][] Embeddings, float[][] LastColumn) Run(InferenceSession session, int[][] rows, bool leftPad)
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
        var hidden = results.First(r => r.Name == "last_hidden_state").AsEnumerable<float>().ToArray();
        int h = flat.Length / rows.Length;
        var embeddings = Enumerable.Range(0, rows.Length).Select(b => flat[(b * h)..((b + 1) * h)]).ToArray();
        var lastColumn = Enumerable.Range(0, rows.Length).Select(b =>
        {
            var v = hidden[((b * width + width - 1) * h)..((b * width + width) * h)];
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            return v.Select(x => (float)(x / norm)).ToArray();
        }).ToArray();
        return (embeddings, lastColumn);
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
        var (expected, lastColumn) = Run(session, rows, leftPad: false);
        for (int b = 0; b < rows.Length; b++) Assert.True(Golden.MaxAbsDiff(expected[b], lastColumn[b]) <= 1e-6, $"last column of right-padded row {b}");

        var left = Run(session, rows, leftPad: true);
        for (int b = 0; b < rows.Length; b++)
        {
            Assert.True(Golden.MaxAbsDiff(expected[b], left.Embeddings[b]) <= 1e-5, $"left-padded row {b}: {Golden.MaxAbsDiff(expected[b], left.Embeddings[b])}");
            Assert.True(Golden.MaxAbsDiff(expected[b], left.LastColumn[b]) <= 1e-5, $"last column of left-padded row {b}");
        }

        // As transformers.js truncates: BOS + the text's first max_length − 1 ids, no EOS; it differs from ours in its last id only.
        int[][] cut = [tokenizer.Encode(longText, "Find the abstract", MaxLength + 1)[..MaxLength], rows[1], tokenizer.Encode(longText, null, MaxLength + 1)[..MaxLength]];
        Assert.NotEqual(tokenizer.EosId, cut[0][^1]);
        Assert.Equal(rows[0][..^1], cut[0][..^1]);
        foreach (var leftPad in new[] { false, true })
        {
            var got = Run(session, cut, leftPad);
            for (int b = 0; b < rows.Length; b++)
            {
                Assert.True(Golden.MaxAbsDiff(expected[b], got.Embeddings[b]) <= 1e-5, $"cut row {b} (left {leftPad})");
                Assert.True(Golden.MaxAbsDiff(expected[b], got.LastColumn[b]) <= 1e-5, $"last column of cut row {b} (left {leftPad})");
            }
        }
        Assert.True(Golden.MaxAbsDiff(expected[0], expected[2]) > 1e-3); // the rows differ, so the comparisons mean something
    }
}
