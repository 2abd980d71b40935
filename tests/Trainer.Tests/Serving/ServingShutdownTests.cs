using System.Diagnostics;
using System.Text.RegularExpressions;
using Trainer.Tests.Cli;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// Stopping the server (in-process, or SIGTERM to <c>trainer serve</c>) refuses new connections but lets a request in
/// flight, still waiting in the batch queue, finish with 200 and its right vector; the process then exits 0.
/// </summary>
[Collection(ServingCollection.Name)]
public partial class ServingShutdownTests(ServingFixture fixture)
{
    [Fact]
    public async Task StopAsync_finishes_the_request_in_flight_then_refuses_new_ones()
    {
        var server = await ServingFixture.StartAsync(fixture.Options() with { MaxWaitMs = 2000 });
        var inFlight = PostAsync(server.Address, "/embed", new { inputs = fixture.Documents[0] });
        while (server.Stats.Queued == 0) await Task.Delay(10, TestContext.Current.CancellationToken);

        var stopping = server.StopAsync();
        var response = await inFlight;
        Assert.Equal(200, response.Status);
        AssertClose([fixture.Export.Documents[0]], TeiVectors(response.Json), 1e-5, "the request in flight");
        await stopping;
        await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(server.Address, "/embed", new { inputs = "too late" }));
        Assert.Equal(1, server.Stats.Batches);
    }

    [Fact]
    public async Task Stopping_answers_a_queued_request_at_once_however_long_max_wait_is()
    {
        var server = await ServingFixture.StartAsync(fixture.Options() with { MaxWaitMs = 600_000 });
        var inFlight = PostAsync(server.Address, "/embed", new { inputs = fixture.Documents[0] });
        while (server.Stats.Queued == 0) await Task.Delay(10, TestContext.Current.CancellationToken);

        var clock = Stopwatch.StartNew();
        var stopping = server.StopAsync();
        var response = await inFlight;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered {clock.Elapsed} after the stop"); // not at the 30 s shutdown time-out
        Assert.Equal(200, response.Status);
        AssertClose([fixture.Export.Documents[0]], TeiVectors(response.Json), 1e-5, "the queued request");
        await stopping;
    }

    [Fact]
    public async Task Sigterm_lets_the_request_in_flight_finish_and_trainer_serve_exits_0()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "trainer.dll"), "serve", "--model", fixture.ExportDir, "--port", "0", "--max-wait-ms", "3000" })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = new System.Text.StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
            var inFlight = PostAsync(url, "/v1/embeddings", new { input = fixture.Documents[3] });
            while (!(await GetAsync(url, "/metrics")).Body.Contains("trainer_serve_queued_inputs 1\n"))
                await Task.Delay(20, TestContext.Current.CancellationToken);

            Assert.Equal(0, SignalNative.Kill(process.Id, SignalNative.SIGTERM));
            var response = await inFlight;
            Assert.Equal(200, response.Status);
            AssertClose([fixture.Export.Documents[3]], OpenAiVectors(response.Json), 1e-5, "the request in flight");

            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
            process.WaitForExit(); // drains the stderr callbacks
            string log;
            lock (stderr) log = stderr.ToString();
            Assert.True(process.ExitCode == 0, log);
            Assert.Contains("serve: stopping: no new connections; finishing 1 request(s) in flight", log);
            Assert.Contains("serve: stopped after 1 request(s): 1 input(s) in 1 batch(es)", log);
            Assert.Equal("", await stdout);
            await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(url, "/health"));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void A_bad_option_is_one_error_line_and_exit_1()
    {
        var result = CliRunner.Run("serve", "--model", fixture.Checkpoint, "--engine", "onnx");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: "));
        Assert.Contains("--engine onnx runs an export's model.onnx, and", line);
        Assert.Contains("is a checkpoint; export it first", line);
    }

    [GeneratedRegex(@"serve: listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
