using System.Text.Json;
using Trainer.Config;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Tests.Training;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Tests.Text;

/// <summary>
/// <c>data.query_template</c>: e5's by default, Qwen3-Embedding's (no space after "Query:") when asked; the checkpoint and
/// the export carry it, and embed, the sentence-transformers prompt and the export all write queries with it.
/// </summary>
public class QueryTemplateTests
{
    private const string Qwen3Embedding = "Instruct: {instruction}\nQuery:{query}";

    [Fact]
    public void A_template_fills_the_instruction_and_puts_the_query_last()
    {
        Assert.Equal("Instruct: Find it\nQuery: q", QueryTemplate.E5.Format("q", "Find it"));
        Assert.Equal("Instruct: Find it\nQuery:q", new QueryTemplate(Qwen3Embedding).Format("q", "Find it"));
        Assert.Equal("q", new QueryTemplate(Qwen3Embedding).Format("q", null));
        Assert.Equal("Instruct: {query}\nQuery:x", new QueryTemplate(Qwen3Embedding).Format("x", "{query}")); // an instruction is text, never a slot
        Assert.Equal("Instruct: {instruction}\nQuery:{text}", new QueryTemplate(Qwen3Embedding).ServingSpelling);
        Assert.Equal(new QueryTemplate(Qwen3Embedding), QueryTemplate.FromServingSpelling("Instruct: {instruction}\nQuery:{text}"));
    }

    [Theory]
    [InlineData("Query: {query} Instruct: {instruction}")]
    [InlineData("{query}")]
    [InlineData("{instruction} {instruction} {query}")]
    [InlineData("{instruction}: {query} {query}")]
    public void A_template_without_one_instruction_or_not_ending_with_the_query_is_refused_naming_the_key(string template)
    {
        var e = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("template"), $"data.query_template={JsonSerializer.Serialize(template)}"));
        Assert.StartsWith("data.query_template is invalid: the query template", e.Message);
        Assert.Contains("must hold {instruction} once and end with {query}", e.Message);
    }

    [Fact]
    public void A_run_with_qwen3_embeddings_template_writes_its_queries_with_it_in_training_embed_and_the_export()
    {
        var run = TestPaths.TempDir("template-run");
        var config = TrainingFixture.Config(run, $"data.query_template={JsonSerializer.Serialize(Qwen3Embedding)}", "training.max_steps=2", "checkpoint.every_steps=2");
        var summary = new TrainingRun(config, new TrainOptions(), TextWriter.Null).Run();
        var export = ExportJob.Run(new ExportOptions(summary.LastCheckpoint!, ["safetensors"], Path.Combine(TestPaths.TempDir("template-export"), "export")), TextWriter.Null).OutputDir;

        using var embeddingConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, ExportJob.EmbeddingConfigFile)));
        Assert.Equal("Instruct: {instruction}\nQuery:{text}", embeddingConfig.RootElement.GetProperty("query_template").GetString());
        using var st = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, "config_sentence_transformers.json")));
        Assert.Equal("Instruct: Find the abstract\nQuery:", st.RootElement.GetProperty("prompts").GetProperty("query").GetString());

        // tokenize a query from the checkpoint and from the export: Qwen3-Embedding's format, not e5's
        var folder = TestPaths.TempDir("template-ids");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllLines(input, [JsonSerializer.Serialize(new { text = "how do vaccines work?", query = true })]);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var expected = tokenizer.WithTemplate(new QueryTemplate(Qwen3Embedding)).Encode("how do vaccines work?", "Find the abstract", 24);
        Assert.NotEqual(tokenizer.Encode("how do vaccines work?", "Find the abstract", 24), expected);
        foreach (var source in new[] { summary.LastCheckpoint!, export })
        {
            var output = Path.Combine(folder, $"ids-{Guid.NewGuid():N}.jsonl");
            EmbedJob.Tokenize(new EmbedOptions(source, input, output));
            Assert.Equal(expected, Golden.Ints(JsonDocument.Parse(File.ReadAllLines(output)[0]).RootElement.GetProperty("input_ids")));
        }
    }
}
