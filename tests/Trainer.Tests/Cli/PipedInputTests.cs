using System.Text.Json;
using Trainer.Data;
using Trainer.Inference;
using Trainer.Tests.Checkpointing;

namespace Trainer.Tests.Cli;

/// <summary>
/// #26.2: an input is read once, so a pipe, a FIFO or <c>-</c> gives every row (it gave none, with exit 0); standard
/// output takes an output; an empty input is refused.
/// </summary>
public class PipedInputTests
{
    private static readonly string[] Lines = TinyLines.Of(Golden.TinyCases());

    private static string Stdin => string.Join('\n', Lines) + "\n";

    private static List<int[]> Ids(IEnumerable<string> lines) =>
        lines.Where(l => l.Length > 0).Select(l => Golden.Ints(JsonDocument.Parse(l).RootElement.GetProperty("input_ids"))).ToList();

    private static List<int[]> Expected => Golden.TinyCases().Select(c => c.InputIds).ToList();

    [Theory]
    [InlineData("/dev/stdin")]
    [InlineData("-")]
    public void Tokenize_reads_a_piped_input_once_and_writes_every_row(string input)
    {
        var output = Path.Combine(TestPaths.TempDir("piped"), "out.jsonl");
        var result = CliRunner.RunWithInput(Stdin, "tokenize", "--model", TestPaths.TinyMistral, "--input", input, "--output", output);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"tokenize: wrote {Lines.Length} line(s)", result.Stderr);
        Assert.Equal(Expected, Ids(File.ReadAllLines(output)));
    }

    [Fact]
    public void Embed_reads_standard_input_and_writes_standard_output()
    {
        var result = CliRunner.RunWithInput(Stdin, "embed", "--model", TestPaths.TinyMistral, "--input", "-", "--output", "-");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Lines.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(i, line.GetProperty("id").GetInt32());
            Assert.True(Golden.MaxAbsDiff(Golden.TinyCases()[i].Embedding, Golden.Floats(line.GetProperty("embedding"))) <= 1e-5, $"line {i + 1}");
        }
    }

    [Fact]
    public void Tokenize_reads_a_fifo_in_process()
    {
        var folder = TestPaths.TempDir("piped-fifo");
        var file = Path.Combine(folder, "in.jsonl");
        File.WriteAllText(file, Stdin);
        var fifo = SpecialFiles.Fifo(Path.Combine(folder, "in.fifo"));
        var writer = SpecialFiles.CatFrom(file, fifo);
        var output = Path.Combine(folder, "out.jsonl");

        int count = EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, fifo, output));

        Assert.True(SpecialFiles.Finish(writer));
        Assert.Equal(Lines.Length, count);
        Assert.Equal(Expected, Ids(File.ReadAllLines(output)));
    }

    [Fact]
    public void Training_rows_are_read_from_a_fifo_as_jsonl()
    {
        var folder = TestPaths.TempDir("piped-rows");
        var file = Path.Combine(folder, "rows.jsonl");
        File.WriteAllLines(file, ["{\"query\": \"q1\", \"positive\": \"p1\", \"neg\": [\"n1\"]}", "{\"query\": \"q2\", \"positive\": \"p2\"}"]);
        var fifo = SpecialFiles.Fifo(Path.Combine(folder, "rows.fifo"));
        var writer = SpecialFiles.CatFrom(file, fifo);

        var rows = TrainingDataReader.Read([fifo], defaultInstruction: null, skipInvalid: false).Examples;

        Assert.True(SpecialFiles.Finish(writer));
        Assert.Equal(["q1", "q2"], rows.Select(r => r.Query));
        Assert.Equal(["n1"], rows[0].Negatives);
    }

    [Fact]
    public void Mine_reads_its_rows_from_standard_input_as_from_the_file()
    {
        var (folder, corpus, train) = Evaluation.MiningFixture.Write();
        string fromFile = Path.Combine(folder, "file.jsonl"), fromPipe = Path.Combine(folder, "pipe.jsonl");
        string[] args = ["mine", "--model", TestPaths.TinyMistral, "--max-length", "32", "--corpus", corpus, "--range", "2-10", "--negatives", "3"];

        var file = CliRunner.Run([.. args, "--input", train, "--output", fromFile]);
        var pipe = CliRunner.RunWithInput(File.ReadAllText(train), [.. args, "--input", "-", "--output", fromPipe]);

        Assert.True(file.ExitCode == 0, file.Stderr);
        Assert.True(pipe.ExitCode == 0, pipe.Stderr);
        Assert.Equal(Evaluation.MiningFixture.Rows.Length, File.ReadAllLines(fromPipe).Length);
        Assert.Equal(File.ReadAllText(fromFile), File.ReadAllText(fromPipe));
    }

    [Fact]
    public void An_empty_input_is_refused_and_leaves_no_output()
    {
        var output = Path.Combine(TestPaths.TempDir("piped-empty"), "out.jsonl");
        var result = CliRunner.RunWithInput("\n  \n", "tokenize", "--model", TestPaths.TinyMistral, "--input", "-", "--output", output);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("-: no input lines (the input is empty or blank); nothing to tokenize.", result.Stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_bad_line_after_the_first_round_fails_naming_it_and_leaves_the_earlier_output()
    {
        var folder = TestPaths.TempDir("piped-bad");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllLines(input, [.. Lines, "{\"text\": 5}"]);
        var output = Path.Combine(folder, "out.jsonl");
        File.WriteAllText(output, "earlier\n");
        var error = Assert.Throws<InvalidDataException>(() => EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, output) { ChunkLines = 2 }));
        Assert.Equal($"{input}:{Lines.Length + 1}: \"text\" must be a string.", error.Message);
        Assert.Equal("earlier\n", File.ReadAllText(output));
        Assert.Equal(new[] { "in.jsonl", "out.jsonl" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
    }
}
