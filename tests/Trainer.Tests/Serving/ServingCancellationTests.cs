using System.Text;
using System.Text.Json;
using Trainer.Serving;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// A client that hangs up takes its queued inputs out of the queue: the model never runs them, the next request does
/// not wait for them, and <c>/metrics</c> counts the request as cancelled (status 499), not as answered.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingCancellationTests(ServingFixture fixture)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_client_that_hangs_up_has_its_queued_inputs_dropped_and_counted_as_499()
    {
        var options = fixture.Options() with { MaxWaitMs = 0 };
        var model = ServedModel.Resolve(options, TextWriter.Null);
        var engine = new RecordingEngine();
        engine.Gate.Reset(); // the model stays busy with the first request until released
        await using var server = await EmbeddingServer.StartAsync(model, engine, model.LoadTokenizer(), options, TextWriter.Null, TestContext.Current.CancellationToken);

        var busy = PostAsync(server.Address, "/embed", new { inputs = "keeps the model busy" });
        Assert.True(engine.WaitEntered(Long));
        using var hangUp = new CancellationTokenSource();
        using var content = new StringContent(JsonSerializer.Serialize(new { inputs = new[] { "one", "two", "three" } }), Encoding.UTF8, "application/json");
        var abandoned = Client.PostAsync(new Uri(server.Address, "/embed"), content, hangUp.Token);
        await Until(() => server.Stats.Queued == 3, "the abandoned request's inputs are queued");
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        await Until(() => server.Stats.Queued == 0, "the abandoned inputs leave the queue while the model is still busy");
        engine.Gate.Set();
        Assert.Equal(200, (await busy).Status);
        Assert.Equal(200, (await PostAsync(server.Address, "/embed", new { inputs = "the next real request" })).Status);

        Assert.Equal(2, engine.Batches.Sum(b => b.Length)); // the busy request's input and the next one: never the three abandoned
        Assert.Equal((1L, 3L), (server.Stats.CancelledRequests, server.Stats.CancelledInputs));
        await Until(async () => (await GetAsync(server.Address, "/metrics")).Body.Contains("trainer_serve_responses_total{endpoint=\"/embed\",status=\"499\"} 1\n"),
            "/metrics counts the abandoned request as 499");
        var metrics = (await GetAsync(server.Address, "/metrics")).Body;
        Assert.Contains("trainer_serve_inputs_cancelled_total 3\n", metrics);
        Assert.Contains("trainer_serve_responses_total{endpoint=\"/embed\",status=\"200\"} 2\n", metrics);
    }

    private static Task Until(Func<bool> condition, string what) => Until(() => Task.FromResult(condition()), what);

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
