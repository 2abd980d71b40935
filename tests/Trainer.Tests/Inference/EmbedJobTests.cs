using System.Text.Json;
using Trainer.Inference;

namespace Trainer.Tests.Inference;

/// <summary>embed/tokenize stream their input in rounds into a temporary file and never overwrite their input.</summary>
public class EmbedJobTests
{
    private static (string Folder, string Input, string Output) Files(int repeat = 1)
    {
        var folder = TestPaths.TempDir("embed-job");
        var input = Path.Combine(folder, "in.jsonl");
        var lines = Golden.TinyCases().Select((c, i) => JsonSerializer.Serialize(c.Instruction is null
                ? new Dictionary<string, object> { ["id"] = i, ["text"] = c.Text }
                : new Dictionary<string, object> { ["id"] = i, ["text"] = c.Text, ["instruction"] = c.Instruction }));
        File.WriteAllLines(input, Enumerable.Repeat(lines, repeat).SelectMany(l => l));
        return (folder, input, Path.Combine(folder, "out.jsonl"));
    }

    private static string TempFile(string output) =>
        Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.tmp-{Environment.ProcessId}");

    private static int LineCount(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd().Count(c => c == '\n');
    }

    [Fact]
    public void Tokenize_writes_each_round_to_a_temporary_file_as_it_goes()
    {
        var (folder, input, output) = Files(repeat: 2);
        var cases = Golden.TinyCases();
        var rounds = new List<(int Done, int LinesInTemp, bool OutputExists)>();
        int count = EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, output) { ChunkLines = 3 },
            written: done => rounds.Add((done, LineCount(TempFile(output)), File.Exists(output))));

        int total = 2 * cases.Count;
        Assert.Equal(total, count);
        var expected = Enumerable.Range(1, (total + 2) / 3).Select(r => Math.Min(3 * r, total)).ToList();
        Assert.Equal(expected.Select(d => (d, d, false)), rounds);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        for (int i = 0; i < total; i++)
        {
            Assert.Equal(i % cases.Count, lines[i].GetProperty("id").GetInt32());
            Assert.Equal(cases[i % cases.Count].InputIds, Golden.Ints(lines[i].GetProperty("input_ids")));
        }
        Assert.Equal(["out.jsonl"], Directory.GetFiles(folder, "*out*").Select(Path.GetFileName));
    }

    [Fact]
    public void Embed_in_rounds_matches_the_reference()
    {
        var (_, input, output) = Files();
        var cases = Golden.TinyCases();
        var rounds = new List<int>();
        EmbedJob.Embed(new EmbedOptions(TestPaths.TinyMistral, input, output) { ChunkLines = 2, BatchSize = 3 },
            written: done => rounds.Add(LineCount(TempFile(output))));

        Assert.Equal(Enumerable.Range(1, (cases.Count + 1) / 2).Select(r => Math.Min(2 * r, cases.Count)), rounds);
        var lines = File.ReadAllLines(output);
        for (int i = 0; i < cases.Count; i++)
            Assert.True(Golden.MaxAbsDiff(cases[i].Embedding, Golden.Floats(JsonDocument.Parse(lines[i]).RootElement.GetProperty("embedding"))) <= 1e-5, $"line {i + 1}");
    }

    [Fact]
    public void A_failure_part_way_keeps_the_old_output_and_removes_the_temporary_file()
    {
        var (folder, input, output) = Files();
        File.WriteAllText(output, "earlier output\n");
        var e = Assert.Throws<OperationCanceledException>(() => EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, output) { ChunkLines = 2 },
            written: _ => throw new OperationCanceledException("stopped after the first round")));
        Assert.Equal("stopped after the first round", e.Message);
        Assert.Equal("earlier output\n", File.ReadAllText(output));
        Assert.Equal([output], Directory.GetFiles(folder, "*out*"));
    }

    [Fact]
    public void Output_that_is_the_input_is_refused_however_it_is_spelled()
    {
        var (folder, input, _) = Files();
        var before = File.ReadAllText(input);
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        var fileLink = Path.Combine(folder, "link.jsonl");
        File.CreateSymbolicLink(fileLink, "in.jsonl");
        var folderLink = Path.Combine(TestPaths.TempDir("embed-job-link"), "linked");
        Directory.CreateSymbolicLink(folderLink, folder);

        foreach (var (output, given) in new[]
        {
            (input, input),
            (Path.Combine(folder, "sub", "..", "in.jsonl"), input),
            (fileLink, input),
            (Path.Combine(folderLink, "in.jsonl"), input),
            (input, fileLink),
        })
        {
            var e = Assert.Throws<ArgumentException>(() => EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, given, output)));
            Assert.Equal($"--output {output} is the input file {given}; write to another file.", e.Message);
        }
        Assert.Equal(before, File.ReadAllText(input));
        Assert.Equal(Golden.TinyCases().Count, EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, fileLink, Path.Combine(folderLink, "other.jsonl"))));
    }
}
