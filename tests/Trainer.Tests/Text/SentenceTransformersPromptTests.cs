using Trainer.Config;
using Trainer.Inference;
using Trainer.Text;

namespace Trainer.Tests.Text;

/// <summary>
/// A base folder that is a sentence-transformers model gives its own query prompt as the default query template and
/// instruction (#21): fine-tuning Qwen3-Embedding keeps "Instruct: …\nQuery:" with no space before the query.
/// </summary>
public class SentenceTransformersPromptTests
{
    /// <summary>Qwen3-Embedding-0.6B's config_sentence_transformers.json, as its model repository ships it.</summary>
    private const string Qwen3Embedding = """
        {"prompts": {"query": "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:", "document": ""},
         "default_prompt_name": null, "similarity_fn_name": "cosine"}
        """;

    private const string WebSearch = "Given a web search query, retrieve relevant passages that answer the query";

    private static string Folder(string? stConfig)
    {
        var dir = TestPaths.TempDir("st-base");
        File.Copy(Path.Combine(TestPaths.TinyMistral, "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(TestPaths.TinyMistral, "tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
        if (stConfig is not null) File.WriteAllText(Path.Combine(dir, SentenceTransformersPrompt.ConfigFile), stConfig);
        return dir;
    }

    private static string WriteResolved(TrainConfig config)
    {
        var path = Path.Combine(TestPaths.TempDir("st-resolved"), "config.yaml");
        File.WriteAllText(path, ConfigLoader.ToYaml(config));
        return path;
    }

    [Fact]
    public void An_e5_shaped_prompt_becomes_a_template_and_its_instruction()
    {
        var (template, instruction) = SentenceTransformersPrompt.Parse("Instruct: " + WebSearch + "\nQuery:")!.Value;
        Assert.Equal("Instruct: {instruction}\nQuery:{query}", template.Template);
        Assert.Equal(WebSearch, instruction);
        Assert.Equal("Instruct: " + WebSearch + "\nQuery:what is rope", template.Format("what is rope", instruction)); // the model's own prompt, then the query

        var (e5, _) = SentenceTransformersPrompt.Parse("Instruct: Retrieve documents\nQuery: ")!.Value;
        Assert.Equal(QueryTemplate.E5, e5);
        Assert.Null(SentenceTransformersPrompt.Parse("query: "));              // no instruction to put in
        Assert.Null(SentenceTransformersPrompt.Parse("Instruct: no line end")); // nothing after the instruction
        Assert.Null(SentenceTransformersPrompt.Parse("Instruct: {query}\nQuery:"));
    }

    [Fact]
    public void A_sentence_transformers_base_gives_the_defaults_of_train_and_of_embed_unless_keys_are_given()
    {
        var model = Folder(Qwen3Embedding);
        var yaml = Path.Combine(TestPaths.TempDir("st-run"), "run.yaml");
        File.WriteAllText(yaml, $"model: {{path: '{model}'}}\ndata: {{train: [a.jsonl]}}\n");
        var config = ConfigLoader.Load(yaml);
        Assert.Equal("Instruct: {instruction}\nQuery:{query}", config.Data.QueryTemplate);
        Assert.Equal(WebSearch, config.Data.DefaultInstruction);
        Assert.Equal(ConfigLoader.ToYaml(config), ConfigLoader.ToYaml(ConfigLoader.Load(WriteResolved(config)))); // a checkpoint's config.yaml reads back the same

        var given = ConfigLoader.Load(yaml, ["data.query_template=\"Instruct: {instruction}\\nQuery: {query}\"", "data.default_instruction=Find the answer"]);
        Assert.Equal((QueryTemplate.E5.Template, "Find the answer"), (given.Data.QueryTemplate, given.Data.DefaultInstruction));

        var source = ModelSource.Resolve(model, null, null, TextWriter.Null);
        Assert.Equal(("Instruct: {instruction}\nQuery:{query}", WebSearch), (source.Template.Template, source.Instruction));
        var tokenizer = source.LoadTokenizer();
        Assert.Equal(tokenizer.Encode("Instruct: " + WebSearch + "\nQuery:rope", null, 64), tokenizer.Encode("rope", source.Instruction, 64));

        var plain = ModelSource.Resolve(Folder("{\"prompts\": {\"query\": \"query: \", \"document\": \"passage: \"}}"), null, null, TextWriter.Null);
        Assert.Equal((QueryTemplate.E5, (string?)null), (plain.Template, plain.Instruction));
    }
}
