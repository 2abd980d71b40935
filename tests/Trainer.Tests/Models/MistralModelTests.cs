using System.Text.Json;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class MistralModelTests
{
    [Fact]
    public void Batch_hidden_state_matches_reference_on_real_tokens()
    {
        var golden = Golden.TinyBatchHidden();
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rows = golden.InputIds.Zip(golden.AttentionMask, (ids, mask) => ids.Take(mask.Sum()).ToArray()).ToList();
        var batch = PaddedBatch.Create(rows, padId: 2);
        Assert.Equal(golden.AttentionMask.SelectMany(r => r).Select(x => (long)x), batch.AttentionMask.data<long>().ToArray());
        var hidden = model.call(batch.InputIds, batch.AttentionMask);

        double max = 0;
        int real = 0;
        for (int b = 0; b < golden.InputIds.Length; b++)
        {
            for (int s = 0; s < golden.InputIds[b].Length; s++)
            {
                if (golden.AttentionMask[b][s] == 0) continue;
                real++;
                max = Math.Max(max, Golden.MaxAbsDiff(golden.LastHiddenState[b][s], hidden[b, s].data<float>().ToArray()));
            }
        }
        Assert.Equal(36 + 34 + 31, real);
        Assert.True(max <= 1e-5, $"max abs diff {max}");
    }

    [Fact]
    public void Case_embeddings_match_reference_through_text_and_input_ids()
    {
        var cases = Golden.TinyCases();
        Assert.Equal(7, cases.Count);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var fromText = cases.Select(c => tokenizer.Encode(c.Text, c.Instruction, maxLength: 512)).ToList();
        for (int i = 0; i < cases.Count; i++) Assert.Equal(cases[i].InputIds, fromText[i]);

        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32);
        var embedder = new TextEmbedder(model, batchSize: 3);
        var textVectors = embedder.Embed(fromText);
        var idVectors = embedder.Embed(cases.Select(c => c.InputIds).ToList());
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(Golden.MaxAbsDiff(cases[i].Embedding, textVectors[i]) <= 1e-5, $"case {i} (text path)");
            Assert.True(Golden.MaxAbsDiff(cases[i].Embedding, idVectors[i]) <= 1e-5, $"case {i} (input_ids path)");
        }
    }

    [Fact]
    public void Stories260k_reproduces_llama2c_logits()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("stories260k.golden.json")));
        var ids = Golden.Ints(doc.RootElement.GetProperty("input_ids"));
        var logits = doc.RootElement.GetProperty("logits").EnumerateArray().Select(Golden.Floats).ToArray();

        using var model = (MistralModel)PretrainedLoader.Load(TestPaths.Stories260k, ScalarType.Float32);
        Assert.True(model.Config.TieWordEmbeddings);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = PaddedBatch.Create([ids], padId: 0);
        var hidden = model.call(batch.InputIds, batch.AttentionMask)[0];     // [S, H]
        var computed = hidden.matmul(model.embed_tokens.weight.t());         // [S, V], tied embeddings
        double max = 0;
        for (int s = 0; s < ids.Length; s++) max = Math.Max(max, Golden.MaxAbsDiff(logits[s], computed[s].data<float>().ToArray()));
        Assert.True(max <= 2e-5, $"max abs diff {max}");
    }

    [Fact]
    public void Sliding_window_hides_keys_at_distance_window_or_more()
    {
        using var scope = NewDisposeScope();
        var mask = AttentionMask.Build(tensor(new long[,] { { 1, 1, 1, 1, 1, 0 } }), slidingWindow: 3, ScalarType.Float32);
        var visible = mask[0, 0].eq(0).to(ScalarType.Int64).data<long>().ToArray();
        long[] expected =
        [
            1, 0, 0, 0, 0, 0,
            1, 1, 0, 0, 0, 0,
            1, 1, 1, 0, 0, 0,
            0, 1, 1, 1, 0, 0,
            0, 0, 1, 1, 1, 0,
            0, 0, 0, 1, 1, 0, // padded query: real keys within the window, never the padded key
        ];
        Assert.Equal(expected, visible);
    }
}
