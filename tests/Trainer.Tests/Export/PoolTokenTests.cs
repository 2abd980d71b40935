using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Config;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Tests.Interop;
using Trainer.Tests.Text;
using Trainer.Tests.Training;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Tests.Export;

/// <summary>
/// <c>model.pool_token</c> (#21): which token is appended and pooled, through training, the checkpoint, export,
/// Hugging Face's Rust tokenizers reading the export, and <c>trainer embed</c> on both. Ids are the real Qwen3
/// tokenizer's: &lt;|endoftext|&gt; 151643, &lt;|im_end|&gt; 151645.
/// </summary>
public class PoolTokenTests
{
    private const int EndOfText = 151643, ImEnd = 151645;

    private static string QwenTokenizerFolder(string name, JsonNode? postProcessor = null)
    {
        var dir = TestPaths.TempDir(name);
        var package = ByteLevelBpeReference.Package("qwen3");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(package, "tokenizer.json")))!.AsObject();
        if (postProcessor is not null) json["post_processor"] = postProcessor;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        File.Copy(Path.Combine(package, "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        return dir;
    }

    /// <summary>Qwen3-Embedding's post-processor: the text, then &lt;|endoftext|&gt;.</summary>
    private static JsonNode AppendsEndOfText() => JsonNode.Parse("""
        {"type":"TemplateProcessing",
         "single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|endoftext|>","type_id":0}}],
         "pair":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|endoftext|>","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"<|endoftext|>","type_id":1}}],
         "special_tokens":{"<|endoftext|>":{"id":"<|endoftext|>","ids":[151643],"tokens":["<|endoftext|>"]}}}
        """)!;

    [Fact]
    public void The_pool_token_replaces_the_rule_and_is_never_appended_twice()
    {
        var qwenBase = EmbeddingTokenizer.Load(QwenTokenizerFolder("pool-base"));
        Assert.Equal([EndOfText], qwenBase.SuffixIds); // the rule: <|endoftext|>, not eos_token <|im_end|>
        Assert.Same(qwenBase, qwenBase.WithPoolToken(null));
        var chat = qwenBase.WithPoolToken("<|im_end|>");
        Assert.Equal([ImEnd], chat.SuffixIds);
        Assert.Equal("<|im_end|>", chat.PoolTokenText);
        int[] plain = qwenBase.ByteLevel.Encode("Vaccines work.");
        Assert.Equal([.. plain, ImEnd], chat.Encode("Vaccines work.", null, 64));
        Assert.Equal([EndOfText], qwenBase.SuffixIds); // the original is unchanged

        var embedding = EmbeddingTokenizer.Load(QwenTokenizerFolder("pool-embedding", AppendsEndOfText()));
        Assert.Equal([EndOfText], embedding.SuffixIds);
        Assert.Equal([.. plain, EndOfText], embedding.WithPoolToken("<|endoftext|>").Encode("Vaccines work.", null, 64)); // once, not twice
        Assert.Equal([.. plain, EndOfText, ImEnd], embedding.WithPoolToken("<|im_end|>").Encode("Vaccines work.", null, 64));
    }

    [Fact]
    public void A_pool_token_the_tokenizer_lacks_is_refused_naming_the_key_the_value_and_what_is_allowed()
    {
        var qwen = EmbeddingTokenizer.Load(QwenTokenizerFolder("pool-refused"));
        var unknown = Assert.Throws<ArgumentException>(() => qwen.WithPoolToken("</s>"));
        Assert.Contains("model.pool_token = </s> is not one of tokenizer.json's added tokens; expected one of <|endoftext|>, <|im_start|>, <|im_end|>", unknown.Message);

        var sentencePiece = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        Assert.Equal(sentencePiece.SuffixIds, sentencePiece.WithPoolToken("</s>").SuffixIds);
        var other = Assert.Throws<ArgumentException>(() => sentencePiece.WithPoolToken("<unk>"));
        Assert.Contains("model.pool_token = <unk> is not allowed for a SentencePiece tokenizer (tokenizer.model): it pools its EOS piece; expected </s>", other.Message);

        var empty = Assert.Throws<ConfigException>(() => TrainingFixture.Config(TestPaths.TempDir("pool-empty"), "model.pool_token=''"));
        Assert.Contains("model.pool_token is empty", empty.Message);
    }

    [Fact]
    public void A_trained_pool_token_reaches_the_checkpoint_the_export_files_and_every_reader_of_them()
    {
        var model = RealTokenizerEndToEndTests.TinyModel("tiny-qwen3", "qwen3", 151669, EndOfText, ImEnd);
        var run = TestPaths.TempDir("pool-run");
        var config = TrainingFixture.Config(run, $"model.path={model}", "model.pool_token='<|im_end|>'", "training.max_steps=1", "checkpoint.every_steps=1");
        var summary = new TrainingRun(config, new TrainOptions(), TextWriter.Null).Run();
        var checkpoint = summary.LastCheckpoint!;
        Assert.Equal(ImEnd, ModelSource.Resolve(checkpoint, null, null, TextWriter.Null).LoadTokenizer().EosId);

        // resuming with another pool token is a different run
        var changed = Assert.Throws<ConfigException>(() => new TrainingRun(config with { Model = config.Model with { PoolToken = null }, Training = config.Training with { MaxSteps = 2 } },
            new TrainOptions { Resume = true }, TextWriter.Null).Run());
        Assert.Contains("model.pool_token: <|im_end|> → null", changed.Message);

        var exportDir = Path.Combine(TestPaths.TempDir("pool-export"), "export");
        var export = ExportJob.Run(new ExportOptions(checkpoint, ["safetensors", "onnx"], exportDir), TextWriter.Null);
        Assert.True(export.Passed, export.Parity?.ToString());
        using (var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(exportDir, ExportJob.EmbeddingConfigFile))))
        {
            Assert.Equal("<|im_end|>", settings.RootElement.GetProperty("pool_token").GetString());
            Assert.Equal(ImEnd, settings.RootElement.GetProperty("eos_token_id").GetInt32());
        }

        // Hugging Face's Rust tokenizers, reading the exported tokenizer.json, appends <|im_end|> once, as we do
        string[] texts = ["How do vaccines train the immune system?", "<|im_end|> inside a text"];
        var work = TestPaths.TempDir("pool-ids");
        var rust = RealTokenizerEndToEndTests.RustIds(exportDir, texts, work);
        var ours = EmbeddingTokenizer.Load(model).WithPoolToken("<|im_end|>");
        for (int i = 0; i < texts.Length; i++) Assert.Equal(ours.Encode(texts[i], null, 512), rust[i]);
        Assert.All(rust, ids => Assert.NotEqual(ImEnd, ids[^2])); // appended once
        Assert.Equal(ImEnd, ModelSource.Resolve(exportDir, null, null, TextWriter.Null).LoadTokenizer().EosId);

        // embed from the checkpoint and from the export: the same vectors
        float[][] Embed(string source) => RealTokenizerEndToEndTests.EmbedTexts(source, texts, work);
        Serving.ServingHttp.AssertClose(Embed(checkpoint), Embed(exportDir), 1e-5, "embed from the export");
    }
}
