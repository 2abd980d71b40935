using System.Text.Json;
using Trainer.Serving;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// The memory a server holds for its requests is bounded: request-body bytes held at once (<c>--max-body-bytes-in-flight</c>),
/// bytes per body (<c>--max-request-bytes</c>) and tokens queued for the model (<c>--max-queued-tokens</c>). Past a bound the
/// answer is 429 at once, or 413 for a request that could never fit, in the JSON error shape.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingMemoryLimitTests(ServingFixture fixture)
{
    [Fact]
    public async Task Bodies_past_the_bytes_in_flight_budget_get_429_at_once_and_fit_again_once_freed()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { MaxRequestBytes = 1000, MaxBodyBytesInFlight = 1500 });
        var body = JsonSerializer.Serialize(new { inputs = new string('x', 580) }); // about 600 bytes: fits beside nothing but small bodies
        using (var upload = await ServingSlowBodyTests.StartUpload(server.Address, "{\"inputs\": \"holds 1000 bytes"))
        {
            await Until(async () => (await GetAsync(server.Address, "/metrics")).Body.Contains("trainer_serve_body_bytes_in_flight 1000\n"), "the upload holds its bytes");
            var refused = await PostRawAsync(server.Address, "/embed", body);
            Assert.Equal(429, refused.Status);
            var error = refused.Json.GetProperty("error");
            Assert.Equal(("rate_limit_error", "too_many_bytes_in_flight"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
            Assert.Contains("--max-body-bytes-in-flight", error.GetProperty("message").GetString());
            Assert.Equal(200, (await PostAsync(server.Address, "/embed", new { inputs = "small" })).Status);
        }
        await Until(async () => (await GetAsync(server.Address, "/metrics")).Body.Contains("trainer_serve_body_bytes_in_flight 0\n"), "the upload's bytes are freed");
        Assert.Equal(200, (await PostRawAsync(server.Address, "/embed", body)).Status);
    }

    [Fact]
    public async Task A_body_over_max_request_bytes_gets_413()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { MaxRequestBytes = 1000, MaxBodyBytesInFlight = 1500 });
        var response = await PostAsync(server.Address, "/embed", new { inputs = new string('x', 1200) });
        Assert.Equal(413, response.Status);
        Assert.Equal("body_too_large", response.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("--max-request-bytes", response.Json.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Tokens_past_the_queue_limit_get_429_at_once_and_a_request_that_never_fits_413()
    {
        int perInput = fixture.DocumentTokens[3]; // "a": BOS, a, EOS
        var options = fixture.Options() with { MaxWaitMs = 0, MaxBatchTokens = ServingFixture.MaxLength, MaxQueuedTokens = 12 * perInput };
        var model = ServedModel.Resolve(options, TextWriter.Null);
        var engine = new RecordingEngine();
        engine.Gate.Reset();
        await using var server = await EmbeddingServer.StartAsync(model, engine, model.LoadTokenizer(), options, TextWriter.Null, TestContext.Current.CancellationToken);

        var busy = PostAsync(server.Address, "/embed", new { inputs = "keeps the model busy" });
        Assert.True(engine.WaitEntered(TimeSpan.FromSeconds(30)));
        var queued = PostAsync(server.Address, "/embed", new { inputs = Enumerable.Repeat("a", 8).ToArray() });
        await Until(() => Task.FromResult(server.Stats.QueuedTokens == 8 * perInput), "the second request is queued");

        var full = await PostAsync(server.Address, "/embed", new { inputs = Enumerable.Repeat("a", 8).ToArray() });
        Assert.Equal(429, full.Status);
        Assert.Equal("queue_full", full.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("--max-queued-tokens", full.Json.GetProperty("error").GetProperty("message").GetString());
        var never = await PostAsync(server.Address, "/embed", new { inputs = Enumerable.Repeat("a", 13).ToArray() });
        Assert.Equal(413, never.Status);
        Assert.Equal("too_many_tokens", never.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(queued.IsCompleted);

        engine.Gate.Set();
        Assert.Equal(200, (await busy).Status);
        Assert.Equal(200, (await queued).Status);
        Assert.Equal(0, server.Stats.QueuedTokens);
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
