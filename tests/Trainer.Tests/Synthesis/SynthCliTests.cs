using System.Diagnostics;
using System.Text.Json;
using Trainer.Benchmarks;
using Trainer.Tests.Cli;
using static Trainer.Tests.Synthesis.SynthHarness;

namespace Trainer.Tests.Synthesis;

/// <summary>The real <c>trainer synth</c> process against the in-process fake server.</summary>
public class SynthCliTests
{
    private static string[] Synth(FakeChatServer server, string dir, int examples, params string[] extra) =>
        ["synth", "--base-url", server.BaseUrl, "--model", "fake-model", "--output", dir, "--examples", examples.ToString(), .. extra];

    [Fact]
    public async Task Killed_with_sigkill_mid_run_and_rerun_it_ends_with_exactly_n_rows_no_duplicate_no_gap_and_nothing_asked_twice()
    {
        await using var server = await FakeChatServer.StartAsync(Enumerable.Repeat(FakeReply.Slow(TimeSpan.FromMilliseconds(60)), 400).ToArray());
        var dir = TestPaths.TempDir("synth-kill");
        var args = Synth(server, dir, 200, "--concurrency", "4", "--price-prompt", "0.15", "--price-completion", "0.6");
        var train = Path.Combine(dir, "train.jsonl");

        using (var process = CliRunner.Start(args))
        {
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(train) && File.ReadAllLines(train).Length >= 40) && clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
                await Task.Delay(20, TestContext.Current.CancellationToken);
            Assert.False(process.HasExited, "the run ended before it could be killed");
            process.Kill(); // SIGKILL
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        int rowsAtKill = File.ReadAllLines(train).Length;
        Assert.InRange(rowsAtKill, 40, 199);
        var finished = File.ReadAllLines(Path.Combine(dir, "requests.jsonl"))
            .Where(l => LenientJsonLine(l)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seed").GetInt32()).ToHashSet();
        int sentBefore = server.Received.Count;

        var rerun = CliRunner.Run(args);

        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        var rows = Lines(dir, "train.jsonl");
        Assert.Equal(200, rows.Count);
        Assert.Equal(200, rows.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(200, rows.Select(r => r.GetProperty("query").GetString() + "\u0001" + r.GetProperty("positive").GetString()).Distinct().Count());
        var requests = Lines(dir, "requests.jsonl");
        Assert.Equal(requests.Count, requests.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 200), requests.Where(r => r.GetProperty("kind").GetString() == "generate").Select(r => r.GetProperty("slot").GetInt32()).Order());
        Assert.DoesNotContain(Seeds(server).Skip(sentBefore), finished.Contains); // no finished request sent again

        // the report of the 200-row run, printed and in report.json
        Assert.StartsWith("rows: 200 of 200\n", rerun.Stdout);
        Assert.Contains("  group        count\n", rerun.Stdout);
        Assert.Contains("cost: ", rerun.Stdout);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json"))).RootElement;
        Assert.Equal(200, report.GetProperty("rows").GetInt32());
        Assert.Equal(200, report.GetProperty("rows_by_group").EnumerateObject().Sum(p => p.Value.GetInt32()));
        Assert.Equal(200, report.GetProperty("rows_by_language").EnumerateObject().Sum(p => p.Value.GetInt32()));
        // one brainstorm per 60 expected rows of a group: short-long expects 200 × 167/507 = 66 rows (2), the others 1 each
        Assert.Equal(5, report.GetProperty("brainstorms").GetInt32());
        Assert.Equal(205, report.GetProperty("requests").GetInt32());
        Assert.Equal(205 * 100, report.GetProperty("completion_tokens").GetInt64());
        double cost = (report.GetProperty("prompt_tokens").GetInt64() * 0.15 + report.GetProperty("completion_tokens").GetInt64() * 0.6) / 1e6;
        Assert.Equal(cost, report.GetProperty("cost").GetDouble(), 9);
        File.WriteAllText(Path.Combine(TestPaths.TempDir("synth-kill-report"), "stdout.txt"), rerun.Stdout);
    }

    private static bool LenientJsonLine(string line)
    {
        try
        {
            JsonDocument.Parse(line).Dispose();
            return true;
        }
        catch (JsonException)
        {
            return false; // the torn line of the kill
        }
    }

    [Fact]
    public async Task Ctrl_c_stops_with_one_line_and_the_same_command_finishes_the_job()
    {
        // 60 rows two at a time, 300 ms each: ~9 s, so the signal lands mid-run even on a loaded machine
        await using var server = await FakeChatServer.StartAsync(Enumerable.Repeat(FakeReply.Slow(TimeSpan.FromMilliseconds(300)), 200).ToArray());
        var dir = TestPaths.TempDir("synth-sigint");
        var args = Synth(server, dir, 60, "--groups", "sts", "--concurrency", "2");
        var train = Path.Combine(dir, "train.jsonl");
        using (var process = CliRunner.Start(args))
        {
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(train) && File.ReadAllLines(train).Length >= 5) && clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
                await Task.Delay(20, TestContext.Current.CancellationToken);
            Assert.Equal(0, SignalNative.Kill(process.Id, SignalNative.SIGINT)); // at once: no `kill` process to start
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(130, process.ExitCode);
            Assert.EndsWith($"synth: stopped; run the same command to continue from {dir}\n", await stderr);
        }
        var rerun = CliRunner.Run(args);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(60, File.ReadAllLines(train).Distinct().Count());
    }

    [Fact]
    public async Task Dry_run_prints_the_rendered_prompts_and_calls_nothing()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-dry");
        var result = CliRunner.Run(Synth(server, dir, 4, "--groups", "short-long,bitext", "--dry-run"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Empty(server.Received);
        Assert.Contains("=== brainstorm short-long (short-long.brainstorm@", result.Stdout);
        Assert.DoesNotContain("=== brainstorm bitext", result.Stdout);
        for (int slot = 0; slot < 4; slot++) Assert.Contains($"=== slot {slot}: ", result.Stdout);
        Assert.DoesNotContain("=== slot 4", result.Stdout);
        Assert.Contains("<a task brainstormed for short-long>", result.Stdout);
        Assert.DoesNotMatch(@"\{[a-z_]+\}", result.Stdout);
        Assert.False(File.Exists(Path.Combine(dir, "train.jsonl")));
    }

    [Theory]
    [InlineData("--groups", "short-long,qa", "error: --groups: unknown group \"qa\" (known: short-long, long-short, short-short, long-long, sts, bitext).\n")]
    [InlineData("--json-mode", "xml", "error: --json-mode: expected none, openai, schema or tgi, got \"xml\".\n")]
    [InlineData("--concurrency", "0", "error: --concurrency: expected at least 1, got 0.\n")]
    public async Task A_bad_option_is_one_line(string option, string value, string expected)
    {
        await using var server = await FakeChatServer.StartAsync();
        var result = CliRunner.Run(Synth(server, TestPaths.TempDir("synth-bad-option"), 2, option, value));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
        Assert.Empty(server.Received);
    }

    [Fact]
    public void An_unreachable_base_url_is_one_line_within_seconds()
    {
        var clock = Stopwatch.StartNew();
        var result = CliRunner.Run("synth", "--base-url", "http://127.0.0.1:1/v1", "--model", "m", "--output", TestPaths.TempDir("synth-cli-unreachable"), "--examples", "2");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: the server at http://127.0.0.1:1/v1 does not answer (", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
    }
}
