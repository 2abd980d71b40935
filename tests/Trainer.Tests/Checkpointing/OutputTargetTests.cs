using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Evaluation;
using Trainer.Inference;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Checkpointing;

/// <summary>
/// #26.1: an output path is written by what it names. A file keeps the atomic write; a link is followed and stays; a
/// FIFO is streamed to and stays a FIFO; a folder or a socket is refused before any work; a killed run's temporary file
/// is removed by the next run.
/// </summary>
public class OutputTargetTests
{
    private static (string Folder, string Input) Input()
    {
        var folder = TestPaths.TempDir("output-target");
        var input = Path.Combine(folder, "in.jsonl");
        File.WriteAllLines(input, TinyLines.Of(Golden.TinyCases()));
        return (folder, input);
    }

    private static List<int[]> Ids(IEnumerable<string> lines) =>
        lines.Select(l => Golden.Ints(JsonDocument.Parse(l).RootElement.GetProperty("input_ids"))).ToList();

    private static List<int[]> Expected => Golden.TinyCases().Select(c => c.InputIds).ToList();

    [Fact]
    public void A_fifo_output_is_streamed_to_and_stays_a_fifo()
    {
        var (folder, input) = Input();
        var fifo = SpecialFiles.Fifo(Path.Combine(folder, "out.fifo"));
        var received = Path.Combine(folder, "received.jsonl");
        var reader = SpecialFiles.CatInto(fifo, received);

        int count = EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, fifo));

        Assert.True(SpecialFiles.Finish(reader), "the reader of the FIFO never saw its end");
        Assert.Equal(FileType.Fifo, FileStat.TypeOf(fifo, followLinks: false));
        Assert.Equal(Golden.TinyCases().Count, count);
        Assert.Equal(Expected, Ids(File.ReadAllLines(received)));
        Assert.Empty(Directory.GetFiles(folder, ".*tmp-*"));
    }

    [Fact]
    public void A_symlink_output_writes_its_target_atomically_and_the_link_stays()
    {
        var (folder, input) = Input();
        Directory.CreateDirectory(Path.Combine(folder, "real"));
        var target = Path.Combine(folder, "real", "target.jsonl");
        File.WriteAllText(target, "old\n");
        var link = Path.Combine(folder, "link.jsonl");
        File.CreateSymbolicLink(link, Path.Combine("real", "target.jsonl")); // relative, as ln -s makes it
        var dangling = Path.Combine(folder, "dangling.jsonl");
        File.CreateSymbolicLink(dangling, Path.Combine(folder, "real", "new.jsonl"));

        EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, link));
        EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, dangling));

        Assert.Equal(FileType.SymbolicLink, FileStat.TypeOf(link, followLinks: false));
        Assert.Equal(FileType.SymbolicLink, FileStat.TypeOf(dangling, followLinks: false));
        Assert.Equal(Expected, Ids(File.ReadAllLines(target)));
        Assert.Equal(Expected, Ids(File.ReadAllLines(Path.Combine(folder, "real", "new.jsonl"))));
        Assert.Equal(["new.jsonl", "target.jsonl"], Directory.GetFiles(Path.Combine(folder, "real")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Eval_outputs_through_a_symlink_keep_the_link()
    {
        var folder = TestPaths.TempDir("output-target-eval");
        var target = Path.Combine(folder, "run-target.trec");
        var link = Path.Combine(folder, "run.trec");
        File.CreateSymbolicLink(link, target);
        TrecRunFile.Write(link, ["q1"], [[new ScoredDoc("d1", 0.5)]], "test");
        Assert.Equal(FileType.SymbolicLink, FileStat.TypeOf(link, followLinks: false));
        Assert.Equal("q1 Q0 d1 1 0.5 test\n", File.ReadAllText(target));
    }

    [Fact]
    public void A_folder_or_a_socket_is_refused_in_one_line_before_any_work()
    {
        var (folder, input) = Input();
        var socketPath = Path.Combine(folder, "s.sock");
        using var socket = SpecialFiles.UnixSocket(socketPath);

        var onFolder = Assert.Throws<ArgumentException>(() => EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, folder)));
        var onSocket = Assert.Throws<ArgumentException>(() => EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, socketPath)));
        var evalSocket = Assert.Throws<ArgumentException>(() => new EvalOptions(TestPaths.TinyMistral, folder) { RunPath = socketPath }.Validate());

        Assert.Contains("is a folder", onFolder.Message);
        Assert.Equal($"--output {socketPath} is a socket; give a regular file (or a new path), a FIFO, a character device, or - for standard output.", onSocket.Message);
        Assert.StartsWith($"--run {socketPath} is a socket", evalSocket.Message);
        Assert.Equal(FileType.Socket, FileStat.TypeOf(socketPath, followLinks: false));
    }

    [Fact]
    public void A_killed_runs_temporary_file_is_removed_by_the_next_run_and_a_live_ones_is_kept()
    {
        var (folder, input) = Input();
        var output = Path.Combine(folder, "out.jsonl");
        var stale = Path.Combine(folder, $".out.jsonl.tmp-{SpecialFiles.EndedPid()}");
        var live = Path.Combine(folder, ".out.jsonl.tmp-1"); // pid 1 runs as long as the machine does: a live run's
        var other = Path.Combine(folder, $".other.jsonl.tmp-{SpecialFiles.EndedPid()}");  // another output's: not ours to remove
        foreach (var f in new[] { stale, live, other }) File.WriteAllText(f, "partial");

        EmbedJob.Tokenize(new EmbedOptions(TestPaths.TinyMistral, input, output));

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
        Assert.Equal(Expected, Ids(File.ReadAllLines(output)));
    }

    [Fact]
    public void The_same_file_is_recognised_through_dots_links_and_hard_links()
    {
        var folder = TestPaths.TempDir("same-file");
        var file = Path.Combine(folder, "a.jsonl");
        File.WriteAllText(file, "x");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        var link = Path.Combine(folder, "link.jsonl");
        File.CreateSymbolicLink(link, file);
        var folderLink = Path.Combine(folder, "again");
        Directory.CreateSymbolicLink(folderLink, folder);
        var hard = Path.Combine(folder, "hard.jsonl");
        using (var ln = System.Diagnostics.Process.Start("ln", [file, hard])) ln.WaitForExit();

        Assert.True(FileStat.SameFile(file, Path.Combine(folder, "sub", "..", "a.jsonl")));
        Assert.True(FileStat.SameFile(file, link));
        Assert.True(FileStat.SameFile(file, Path.Combine(folderLink, "a.jsonl")));
        Assert.True(FileStat.SameFile(file, hard));
        Assert.False(FileStat.SameFile(file, Path.Combine(folder, "missing.jsonl")));
        File.WriteAllText(Path.Combine(folder, "b.jsonl"), "x");
        Assert.False(FileStat.SameFile(file, Path.Combine(folder, "b.jsonl")));
    }
}
