using System.Text;

namespace Trainer.Tests.Cli;

/// <summary>embed/tokenize input and output mistakes: one line on stderr, exit 1, earlier output untouched, no temporary file.</summary>
public class EmbedInputErrorTests
{
    private static void AssertOneLineError(string[] args, string expected, string folder)
    {
        foreach (var command in new[] { "embed", "tokenize" })
        {
            var result = CliRunner.Run([command, "--model", TestPaths.TinyMistral, .. args]);
            Assert.Equal(1, result.ExitCode);
            var error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal($"error: {expected}", error);
        }
        Assert.Empty(Directory.GetFiles(folder, ".*.tmp-*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("{\"text\": \" \\t \"}", "\"text\" is empty or whitespace only.")]
    [InlineData("{\"text\": \"\"}", "\"text\" is empty or whitespace only.")]
    [InlineData("{\"text\": \"a\", \"instruction\": \"  \"}", "\"instruction\" is whitespace only; leave it out (or \"\") for no instruction.")]
    [InlineData("{\"text\": \"a\", \"text\": \"b\"}", "duplicate key \"text\"; each key may appear once per line.")]
    [InlineData("{\"text\": \"a\", \"query\": \"yes\"}", "\"query\" must be true or false.")]
    [InlineData("{\"text\": \"a\", \"query\": false, \"instruction\": \"Find it\"}", "\"query\": false marks a document, which takes no \"instruction\"; drop one of them.")]
    [InlineData("{\"id\": 1, \"input_ids\": [1, 2], \"id\": 2}", "duplicate key \"id\"; each key may appear once per line.")]
    public void Bad_line_is_one_line_naming_file_and_line(string bad, string reason)
    {
        var folder = TestPaths.TempDir("embed-input");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"fine\"}\n" + bad + "\n");
        var output = Path.Combine(folder, "out.jsonl");
        File.WriteAllText(output, "earlier output\n");
        AssertOneLineError(["--input", input, "--output", output], $"{input}:2: {reason}", folder);
        Assert.Equal("earlier output\n", File.ReadAllText(output));
    }

    [Fact]
    public void Invalid_utf8_is_one_line_naming_file_line_and_byte()
    {
        var folder = TestPaths.TempDir("embed-input");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllBytes(input, [.. Encoding.UTF8.GetBytes("{\"text\": \"fine\"}\n\n"), .. Encoding.Latin1.GetBytes("{\"text\": \"na\u00efve\"}\n")]);
        var output = Path.Combine(folder, "out.jsonl");
        File.WriteAllText(output, "earlier output\n");
        AssertOneLineError(["--input", input, "--output", output], $"{input}:3: invalid UTF-8 at byte 13 of the line; the file must be UTF-8 encoded.", folder);
        Assert.Equal("earlier output\n", File.ReadAllText(output));
    }

    [Fact]
    public void Output_that_is_a_folder_or_the_input_is_one_line()
    {
        var folder = TestPaths.TempDir("embed-output");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"fine\"}\n");
        AssertOneLineError(["--input", input, "--output", folder], $"--output {folder} is a folder; give a file path, e.g. {Path.Combine(folder, "out.jsonl")}.", folder);

        var relative = Path.GetRelativePath(Environment.CurrentDirectory, input);
        AssertOneLineError(["--input", relative, "--output", input], $"--output {input} is the input file {relative}; write to another file.", folder);
        Assert.Equal("{\"text\": \"fine\"}\n", File.ReadAllText(input));
    }
}
