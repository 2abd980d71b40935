using System.Diagnostics;
using Trainer.Benchmarks;
using Trainer.Synthesis;
using static Trainer.Tests.Synthesis.SynthHarness;

namespace Trainer.Tests.Synthesis;

/// <summary>How the client meets HTTP failures: what is retried and how long it waits, what is recorded as failed, what stops the run.</summary>
public class SynthHttpTests
{
    [Fact]
    public async Task A_429_with_retry_after_then_503_500_and_a_connection_reset_are_retried_until_an_answer()
    {
        await using var server = await FakeChatServer.StartAsync(
            FakeReply.Error(429, "slow down", new Dictionary<string, string> { ["retry-after"] = "1" }),
            FakeReply.Error(503),
            FakeReply.Error(500),
            FakeReply.ConnectionReset(),
            FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-retries");
        var report = await Run(Options(server, dir, 1));

        Assert.Equal(1, report.Rows);
        var record = Lines(dir, "requests.jsonl").Single();
        Assert.Equal("kept", record.GetProperty("status").GetString());
        Assert.Equal(5, record.GetProperty("attempts").GetInt32());
        Assert.Equal(["429", "503", "500", "connection"], record.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.True(record.GetProperty("latency_ms").GetDouble() >= 990, "the server's retry-after of 1 s was not honoured");
        Assert.Equal(4, report.Retries);
        Assert.Equal(new Dictionary<string, int> { ["429"] = 1, ["500"] = 1, ["503"] = 1, ["connection"] = 1 }, report.HttpErrors);
        Assert.Single(Seeds(server).Distinct()); // a retry resends the same request
    }

    [Fact]
    public async Task Retry_after_ms_is_honoured_and_the_attempt_limit_ends_in_a_failed_record()
    {
        var wait = new Dictionary<string, string> { ["retry-after-ms"] = "300" };
        await using var server = await FakeChatServer.StartAsync(FakeReply.Error(503, headers: wait), FakeReply.Error(503, headers: wait), FakeReply.Error(503, headers: wait), FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-attempts");
        var report = await Run(Options(server, dir, 1) with { Retry = new RetryPolicy(MaxAttempts: 3, InitialDelaySeconds: 0.01) });

        var records = Lines(dir, "requests.jsonl");
        Assert.Equal("failed", records[0].GetProperty("status").GetString());
        Assert.Equal(3, records[0].GetProperty("attempts").GetInt32());
        Assert.StartsWith("http 503 (3 attempts)", records[0].GetProperty("failure").GetString());
        Assert.True(records[0].GetProperty("latency_ms").GetDouble() >= 590);
        Assert.Equal("kept", records[1].GetProperty("status").GetString());
        Assert.Equal(1, report.Rows);
        Assert.Equal(1, report.Failed);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    [InlineData(404)]
    public async Task A_client_error_is_recorded_as_failed_without_a_retry_and_the_run_goes_on(int status)
    {
        await using var server = await FakeChatServer.StartAsync(FakeReply.Error(status, "bad request body"), FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-client-error");
        var report = await Run(Options(server, dir, 1));

        Assert.Equal(2, server.Received.Count);
        var failed = Lines(dir, "requests.jsonl")[0];
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        Assert.Equal($"http {status}: bad request body", failed.GetProperty("failure").GetString());
        Assert.Equal(1, report.Rows);
        Assert.Equal(1, report.Drops["http_failed"]);
    }

    [Fact]
    public async Task When_the_first_ten_slots_all_fail_the_run_stops_naming_the_last_failure()
    {
        await using var server = await FakeChatServer.StartAsync(Enumerable.Repeat(FakeReply.Error(400, "max_tokens is too large"), 20).ToArray());
        var e = await Assert.ThrowsAsync<SynthAbortException>(() => Run(Options(server, TestPaths.TempDir("synth-all-fail"), 100)));
        Assert.StartsWith("10 slots gave no row in this run (last: http 400: max_tokens is too large); see ", e.Message);
        Assert.Equal(10, server.Received.Count);
    }

    [Theory]
    [InlineData(401, "refused the request (401: invalid key)")]
    [InlineData(403, "refused the request (403: invalid key)")]
    public async Task A_refused_key_stops_the_run_at_once_with_one_line(int status, string expected)
    {
        await using var server = await FakeChatServer.StartAsync(FakeReply.Error(status, "invalid key"));
        var dir = TestPaths.TempDir("synth-refused");
        var e = await Assert.ThrowsAsync<SynthAbortException>(() => Run(Options(server, dir, 5)));
        Assert.Contains(expected, e.Message);
        Assert.Contains("OPENAI_API_KEY", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Single(server.Received);
        Assert.Empty(File.ReadAllLines(Path.Combine(dir, "train.jsonl")));

        // with requests in flight, the others are cancelled: no slot starts after the refusal
        var slow = FakeReply.Slow(TimeSpan.FromSeconds(30)); // far beyond the bound below, so load cannot blur the two
        server.Script(FakeReply.Error(status, "invalid key"), slow, slow, slow);
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<SynthAbortException>(() => Run(Options(server, TestPaths.TempDir("synth-refused-4"), 50) with { Concurrency = 4 }));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the abort waited {clock.Elapsed} for the requests in flight");
        Assert.InRange(server.Received.Count, 2, 5);
    }

    [Fact]
    public async Task A_404_naming_the_model_stops_the_run()
    {
        await using var server = await FakeChatServer.StartAsync(FakeReply.Error(404, "The model `fake-model` does not exist"));
        var e = await Assert.ThrowsAsync<SynthAbortException>(() => Run(Options(server, TestPaths.TempDir("synth-404"), 2)));
        Assert.Equal($"the server at {server.BaseUrl} does not know the model \"fake-model\" (404: The model `fake-model` does not exist); check --model.", e.Message);
    }

    [Fact]
    public async Task A_slow_answer_within_the_timeout_is_waited_for_and_one_past_it_is_retried()
    {
        await using var server = await FakeChatServer.StartAsync(FakeReply.Slow(TimeSpan.FromMilliseconds(400)), FakeReply.Slow(TimeSpan.FromSeconds(5)), FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-slow");
        var report = await Run(Options(server, dir, 2) with { RequestTimeout = TimeSpan.FromSeconds(2) });

        var records = Lines(dir, "requests.jsonl");
        Assert.Equal(1, records[0].GetProperty("attempts").GetInt32());
        Assert.True(records[0].GetProperty("latency_ms").GetDouble() >= 390);
        Assert.Equal(2, records[1].GetProperty("attempts").GetInt32());
        Assert.Equal(["timeout"], records[1].GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, report.Rows);
    }

    [Fact]
    public async Task A_base_url_that_does_not_answer_fails_within_seconds_with_one_line()
    {
        var clock = Stopwatch.StartNew();
        var options = new SynthOptions("http://127.0.0.1:1/v1", "m", TestPaths.TempDir("synth-unreachable"), 3) { Groups = [SynthGroup.Sts] };
        var e = await Assert.ThrowsAsync<SynthAbortException>(() => SynthRunner.RunAsync(options, null, TextWriter.Null, TestContext.Current.CancellationToken));
        Assert.StartsWith("the server at http://127.0.0.1:1/v1 does not answer (", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_api_key_is_sent_as_a_bearer_token_and_written_nowhere()
    {
        const string key = "sk-test-5ecret-key-0123456789";
        await using var server = await FakeChatServer.StartAsync(FakeReply.Error(500), FakeReply.Valid(), FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-key");
        var log = new StringWriter();
        await Run(Options(server, dir, 2) with { ProgressInterval = TimeSpan.FromMilliseconds(1) }, key, log);

        Assert.All(server.Received, r => Assert.Equal($"Bearer {key}", r.Authorization));
        foreach (var file in Directory.GetFiles(dir)) Assert.DoesNotContain(key, File.ReadAllText(file));
        Assert.DoesNotContain(key, log.ToString());
        Assert.Contains("synth: 2/2 rows (100.0%)", log.ToString());
    }

    [Fact]
    public async Task The_rate_limiter_spaces_requests_once_a_minutes_allowance_is_spent()
    {
        // Virtual time: every wait the limiter asks for passes at once and moves the clock, so the figures are exact
        // whatever the machine's load.
        var time = new SkippingClock();
        var limiter = new RateLimiter(requestsPerMinute: 6000, tokensPerMinute: null, time);
        for (int i = 0; i < 6000; i++) await limiter.WaitAsync(1, TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.Zero, time.Elapsed); // the first minute's allowance is spent without waiting
        for (int i = 0; i < 50; i++) await limiter.WaitAsync(1, TestContext.Current.CancellationToken);
        Assert.InRange(time.Elapsed.TotalSeconds, 0.499, 0.501); // then 100/s: 50 requests take 0.5 s

        var tokenTime = new SkippingClock();
        var tokens = new RateLimiter(requestsPerMinute: null, tokensPerMinute: 60_000, tokenTime); // 1000 tokens/s
        await tokens.WaitAsync(60_000, TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.Zero, tokenTime.Elapsed);
        await tokens.WaitAsync(300, TestContext.Current.CancellationToken);
        Assert.InRange(tokenTime.Elapsed.TotalSeconds, 0.299, 0.301); // 300 tokens over budget wait 0.3 s
    }

    /// <summary>A clock that only moves when a timer is set: the timer fires at once and the clock jumps by its due time.</summary>
    private sealed class SkippingClock : TimeProvider
    {
        private long _ticks;

        public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Add(ref _ticks, dueTime.Ticks);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new FiredTimer();
        }

        private sealed class FiredTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
