using System.Text.RegularExpressions;
using Trainer.Benchmarks;
using Trainer.Synthesis;
using static Trainer.Tests.Synthesis.SynthHarness;

namespace Trainer.Tests.Synthesis;

/// <summary>Runs into an existing folder: extending, torn lines, rows a kill left unwritten, other settings.</summary>
public class SynthResumeTests
{
    [Fact]
    public async Task A_rerun_sends_nothing_and_a_larger_n_extends_with_new_requests_only()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-extend");
        await Run(Options(server, dir, 5) with { Groups = SynthGroup.All, Concurrency = 3 });
        var first = Seeds(server);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "train.jsonl")).Length);

        var again = await Run(Options(server, dir, 5) with { Groups = SynthGroup.All, Concurrency = 3 });
        Assert.Equal(first.Count, server.Received.Count);
        Assert.Equal(0, again.Session.Requests);

        var extended = await Run(Options(server, dir, 9) with { Groups = SynthGroup.All, Concurrency = 3 });
        Assert.Equal(9, extended.Rows);
        var rows = Lines(dir, "train.jsonl");
        Assert.Equal(9, rows.Select(r => r.GetProperty("query").GetString()).Distinct().Count());
        Assert.Empty(Seeds(server).Skip(first.Count).Intersect(first));
        Assert.Equal(Enumerable.Range(0, 9), Lines(dir, "requests.jsonl").Where(r => r.GetProperty("kind").GetString() == "generate")
            .Select(r => r.GetProperty("slot").GetInt32()).Order());
    }

    [Fact]
    public async Task A_torn_last_line_is_cut_and_a_row_lost_after_its_record_is_rebuilt_from_the_answer()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-torn");
        await Run(Options(server, dir, 4));
        var train = Path.Combine(dir, "train.jsonl");
        var lines = File.ReadAllLines(train);
        // as if killed after writing the last request record but before its row, mid-way through another line
        File.WriteAllText(train, string.Join("\n", lines[..3]) + "\n{\"query\": \"half a li");
        File.AppendAllText(Path.Combine(dir, "requests.jsonl"), "{\"id\": \"torn");
        int sent = server.Received.Count;

        var report = await Run(Options(server, dir, 4));

        Assert.Equal(sent, server.Received.Count);
        Assert.Equal(4, report.Rows);
        Assert.Equal(lines, File.ReadAllLines(train));
        Assert.Equal(4, Lines(dir, "requests.jsonl").Count);
    }

    [Fact]
    public async Task A_dry_run_of_a_folder_prints_the_first_prompt_its_run_sent_for_each_slot_without_a_torn_task_line()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-dry-folder");
        var options = Options(server, dir, 8) with { Groups = [SynthGroup.ShortLong, SynthGroup.LongShort, SynthGroup.Sts, SynthGroup.Bitext] };
        await Run(options);
        var sent = server.Received.ToDictionary(r => r.Body.GetProperty("seed").GetInt32(), r => r.Body.GetProperty("messages")[0].GetProperty("content").GetString());
        var tasks = Path.Combine(dir, "tasks.jsonl");
        // a whole record whose newline a kill cut off: a run cuts it, so the dry run must not draw from it
        File.AppendAllText(tasks, """{"group":"short-long","task":"a task torn before its newline","brainstorm":"x"}""");
        long length = new FileInfo(tasks).Length;

        var output = new StringWriter();
        SynthDryRun.Print(options, output);

        var slots = Regex.Matches(output.ToString(), @"^=== slot (\d+): [^\n]*, seed (-?\d+), [^\n]*\n(.*?)\n(?==== |\z)", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.Equal(Enumerable.Range(0, 8), slots.Select(m => int.Parse(m.Groups[1].Value)));
        foreach (Match slot in slots) Assert.Equal(sent[int.Parse(slot.Groups[2].Value)], slot.Groups[3].Value);
        Assert.DoesNotContain("torn before", output.ToString());
        Assert.Equal(length, new FileInfo(tasks).Length);
    }

    [Fact]
    public async Task A_folder_made_with_other_settings_is_refused_naming_the_setting()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-settings");
        await Run(Options(server, dir, 1));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(Options(server, dir, 2) with { Seed = 7 }));
        Assert.Equal($"{dir} holds another run, made with --seed 42 (this run: 7); use the same setting to extend it, or another --output.", e.Message);
        e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(Options(server, dir, 2) with { Groups = [SynthGroup.Sts, SynthGroup.Bitext] }));
        Assert.Contains("made with --groups sts (this run: sts,bitext)", e.Message);
        e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(Options(server, dir, 2) with { Temperature = 0.7 }));
        Assert.Contains("made with --temperature 1 (this run: 0.7)", e.Message);
        // what may change between runs: concurrency, retries, the server's address
        await Run(Options(server, dir, 2) with { Concurrency = 5, Retry = new RetryPolicy(2) });
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, "train.jsonl")).Length);
    }

    [Fact]
    public async Task The_same_seed_asks_the_same_requests_in_a_new_folder()
    {
        await using var server = await FakeChatServer.StartAsync();
        await Run(Options(server, TestPaths.TempDir("synth-det-a"), 6) with { Groups = SynthGroup.All, Concurrency = 4 });
        var a = Seeds(server).Order().ToList();
        await using var other = await FakeChatServer.StartAsync();
        await Run(Options(other, TestPaths.TempDir("synth-det-b"), 6) with { Groups = SynthGroup.All, Concurrency = 1 });
        Assert.Equal(a, Seeds(other).Order());
    }
}
