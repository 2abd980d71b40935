using System.Text.Json.Nodes;
using Trainer.Models.Mistral;
using Trainer.Tests.Cli;
using Trainer.Text;

namespace Trainer.Tests.Text;

/// <summary>A tokenizer with more pieces than the model has embeddings is refused at load (issue #8, point 10).</summary>
public class TokenizerVocabTests
{
    /// <summary>A copy of stories260k (512-piece tokenizer) whose config.json claims <paramref name="vocabSize"/>.</summary>
    private static string StoriesWithVocab(int vocabSize)
    {
        var dir = TestPaths.TempDir("vocab");
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.model" })
            File.Copy(Path.Combine(TestPaths.Stories260k, file), Path.Combine(dir, file));
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["vocab_size"] = vocabSize;
        File.WriteAllText(path, json.ToJsonString());
        return dir;
    }

    private static string Message(string dir) =>
        $"{Path.Combine(dir, "tokenizer.model")} has 512 pieces but {Path.Combine(dir, "config.json")} has vocab_size = 300; " +
        "the tokenizer must not produce ids the model has no embedding for.";

    [Fact]
    public void Tokenizer_larger_than_the_vocabulary_is_refused_naming_both_files_and_sizes()
    {
        var dir = StoriesWithVocab(300);
        var config = MistralConfig.Load(Path.Combine(dir, "config.json"));
        var e = Assert.Throws<InvalidDataException>(() => EmbeddingTokenizer.Load(dir, config));
        Assert.Equal(Message(dir), e.Message);
    }

    [Fact]
    public void Tokenizer_smaller_than_the_vocabulary_or_equal_is_accepted()
    {
        var padded = StoriesWithVocab(600);
        var tokenizer = EmbeddingTokenizer.Load(padded, MistralConfig.Load(Path.Combine(padded, "config.json")));
        Assert.Equal(512, tokenizer.VocabSize);
        var exact = EmbeddingTokenizer.Load(TestPaths.Stories260k, MistralConfig.Load(Path.Combine(TestPaths.Stories260k, "config.json")));
        Assert.Equal(512, exact.VocabSize);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    public void Cli_exits_1_with_one_line_before_writing_ids_or_loading_weights(string command)
    {
        var dir = StoriesWithVocab(300);
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"Once upon a time there was a little dog.\"}\n");
        var output = Path.Combine(dir, "out.jsonl");
        var result = CliRunner.Run(command, "--model", dir, "--input", input, "--output", output);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {Message(dir)}", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.False(File.Exists(output));
    }
}
