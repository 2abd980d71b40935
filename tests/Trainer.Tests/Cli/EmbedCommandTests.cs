using System.Text.Json;

namespace Trainer.Tests.Cli;

public class EmbedCommandTests
{
    private static string WriteInput(params string[] lines)
    {
        var path = Path.Combine(TestPaths.TempDir("cli"), "in.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static CliRunner.Result Embed(string input, string output, params string[] extra) =>
        CliRunner.Run(["embed", "--model", TestPaths.TinyMistral, "--input", input, "--output", output, .. extra]);

    [Fact]
    public void Embed_and_tokenize_match_the_reference_and_keep_order_and_ids()
    {
        var cases = Golden.TinyCases();
        var lines = cases.Select((c, i) => JsonSerializer.Serialize(c.Instruction is null
            ? new Dictionary<string, object> { ["id"] = $"c{i}", ["text"] = c.Text }
            : new Dictionary<string, object> { ["id"] = $"c{i}", ["text"] = c.Text, ["instruction"] = c.Instruction }))
            .Append(JsonSerializer.Serialize(new { input_ids = cases[0].InputIds }))
            .ToArray();
        var input = WriteInput(lines);
        var output = Path.Combine(Path.GetDirectoryName(input)!, "out.jsonl");
        var ids = Path.Combine(Path.GetDirectoryName(input)!, "ids.jsonl");

        var embed = Embed(input, output, "--batch-size", "3");
        Assert.True(embed.ExitCode == 0, embed.Stderr);
        var tokenize = CliRunner.Run("tokenize", "--model", TestPaths.TinyMistral, "--input", input, "--output", ids);
        Assert.True(tokenize.ExitCode == 0, tokenize.Stderr);

        var embedded = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var tokenized = File.ReadAllLines(ids).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(cases.Count + 1, embedded.Count);
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.Equal($"c{i}", embedded[i].GetProperty("id").GetString());
            Assert.Equal(cases[i].InputIds, Golden.Ints(tokenized[i].GetProperty("input_ids")));
            Assert.True(Golden.MaxAbsDiff(cases[i].Embedding, Golden.Floats(embedded[i].GetProperty("embedding"))) <= 1e-5, $"line {i + 1}");
        }
        Assert.False(embedded[^1].TryGetProperty("id", out _));
        Assert.True(Golden.MaxAbsDiff(cases[0].Embedding, Golden.Floats(embedded[^1].GetProperty("embedding"))) <= 1e-5);
    }

    [Fact]
    public void Embed_with_adapter_matches_the_reference_lora_embeddings()
    {
        var cases = Golden.TinyCases();
        var expected = Golden.Tiny.GetProperty("lora_embeddings").EnumerateArray().Select(Golden.Floats).ToList();
        var input = WriteInput(cases.Select(c => JsonSerializer.Serialize(new { input_ids = c.InputIds })).ToArray());
        var output = input + ".out";
        var result = Embed(input, output, "--adapter", Path.Combine(TestPaths.TinyMistral, "lora-adapter"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = File.ReadAllLines(output);
        for (int i = 0; i < cases.Count; i++)
            Assert.True(Golden.MaxAbsDiff(expected[i], Golden.Floats(JsonDocument.Parse(lines[i]).RootElement.GetProperty("embedding"))) <= 1e-5, $"line {i + 1}");
    }

    [Theory]
    [InlineData("{\"text\": \"fine\"}\n{\"text\": \"broken", 2, "invalid JSON")]
    [InlineData("{\"text\": \"fine\"}\n\n{\"title\": \"no text\"}", 3, "expected \"text\"")]
    [InlineData("{\"input_ids\": [1, 32000, 2]}", 1, "out of the vocabulary")]
    [InlineData("{\"text\": 5}", 1, "\"text\" must be a string")]
    public void Bad_line_exits_non_zero_naming_file_and_line(string content, int line, string reason)
    {
        var input = Path.Combine(TestPaths.TempDir("cli-bad"), "bad.jsonl");
        File.WriteAllText(input, content);
        foreach (var command in new[] { "embed", "tokenize" })
        {
            var result = CliRunner.Run(command, "--model", TestPaths.TinyMistral, "--input", input, "--output", input + ".out");
            Assert.Equal(1, result.ExitCode);
            var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var error = Assert.Single(lines);
            Assert.Contains($"{input}:{line}:", error);
            Assert.Contains(reason, error);
        }
    }

    [Fact]
    public void Missing_model_file_names_the_path()
    {
        var modelDir = TestPaths.TempDir("cli-model");
        File.Copy(Path.Combine(TestPaths.TinyMistral, "config.json"), Path.Combine(modelDir, "config.json"));
        File.Copy(Path.Combine(TestPaths.TinyMistral, "model.safetensors"), Path.Combine(modelDir, "model.safetensors"));
        var input = WriteInput("{\"text\": \"hello\"}");
        var result = CliRunner.Run("embed", "--model", modelDir, "--input", input, "--output", input + ".out");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(Path.Combine(modelDir, "tokenizer.model"), result.Stderr);

        var noModel = Path.Combine(modelDir, "absent");
        result = CliRunner.Run("embed", "--model", noModel, "--input", input, "--output", input + ".out");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(noModel, result.Stderr);
    }
}
