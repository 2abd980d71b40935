using System.Text.Json;
using Trainer.Export;
using Trainer.Tests.Cli;
using Trainer.Tests.Interop;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// transformers.js, loading an export from disk with remote models off, gives <c>trainer embed</c>'s vectors: its
/// feature-extraction pipeline with last-token pooling and normalisation (batched and one text at a time) and the
/// model's own sentence_embedding output, for queries (with the export's query prompt) and documents, including texts
/// longer than max_length, which transformers.js cuts after adding BOS and EOS.
/// </summary>
public class TransformersJsTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private const int MaxLength = 24;                   // the fixture's training max_length
    private const string Instruction = "Find the abstract"; // and its default instruction

    private static readonly string Long = string.Join(" ", Enumerable.Repeat("Vaccines expose the immune system to a harmless part of a pathogen.", 3));

    private static readonly string[] Queries = ["how do vaccines work?", "Is 0-dimensional biomaterial able to induce differentiation?", Long];
    private static readonly string[] Documents = ["Vaccines train the immune system.", "short", Long + " The end."];

    [Fact]
    public void Transformers_js_embeddings_equal_trainer_embed_for_queries_and_documents_at_and_below_the_truncation_length()
    {
        var dir = TestPaths.TempDir("export-transformers-js");
        var export = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], Path.Combine(dir, "model")), TextWriter.Null).OutputDir;
        File.Delete(Path.Combine(export, ExportJob.OnnxFile)); // transformers.js reads onnx/model.onnx

        var input = Path.Combine(dir, "in.json");
        File.WriteAllText(input, JsonSerializer.Serialize(new { queries = Queries, documents = Documents }));
        var node = NodeRunner.Run("transformers-embed.mjs", export, input, Path.Combine(dir, "js.json"));
        Assert.True(node.ExitCode == 0, node.Stderr);
        var js = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "js.json"))).RootElement;

        var lines = Queries.Select(q => JsonSerializer.Serialize(new { text = q, instruction = Instruction }))
            .Concat(Documents.Select(d => JsonSerializer.Serialize(new { text = d })));
        File.WriteAllLines(Path.Combine(dir, "texts.jsonl"), lines);
        var embed = CliRunner.Run("embed", "--model", TestPaths.TinyMistral, "--adapter", trained.Path, "--max-length", MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--input", Path.Combine(dir, "texts.jsonl"), "--output", Path.Combine(dir, "trainer.jsonl"));
        Assert.True(embed.ExitCode == 0, embed.Stderr);
        var expected = File.ReadAllLines(Path.Combine(dir, "trainer.jsonl")).Select(l => Golden.Floats(JsonDocument.Parse(l).RootElement.GetProperty("embedding"))).ToList();

        // The long texts really are cut to max_length by transformers.js (our ids end in EOS; its may not: the graph reads EOS there).
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var ids = js.GetProperty("input_ids").EnumerateArray().Select(Golden.Ints).ToList();
        var ours = Queries.Select(q => tokenizer.Encode(q, Instruction, MaxLength)).Concat(Documents.Select(d => tokenizer.Encode(d, null, MaxLength))).ToList();
        foreach (int i in new[] { 2, 5 })
        {
            Assert.Equal(MaxLength, ids[i].Length);
            Assert.Equal(ours[i][..^1], ids[i][..^1]);
        }
        for (int i = 0; i < ids.Count; i++) Assert.True(ids[i].Length == MaxLength || ids[i].SequenceEqual(ours[i]), $"text {i}: transformers.js ids [{string.Join(", ", ids[i])}]");

        foreach (var output in new[] { "pipeline_batch", "pipeline_single", "model_output" })
        {
            var got = js.GetProperty(output).EnumerateArray().Select(Golden.Floats).ToList();
            Assert.Equal(expected.Count, got.Count);
            for (int i = 0; i < got.Count; i++) Assert.True(Golden.MaxAbsDiff(expected[i], got[i]) <= 1e-4, $"{output} text {i}: max |Δ| {Golden.MaxAbsDiff(expected[i], got[i])}");
        }
        Assert.True(Golden.MaxAbsDiff(expected[0], expected[3]) > 1e-3); // different texts, different vectors: the comparisons mean something
    }
}
