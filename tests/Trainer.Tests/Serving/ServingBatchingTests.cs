using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>Dynamic batching through the real server and model: concurrent requests share model calls, and no vector depends on its batch.</summary>
[Collection(ServingCollection.Name)]
public class ServingBatchingTests(ServingFixture fixture)
{
    [Fact]
    public async Task Concurrent_requests_share_model_calls_and_get_the_vectors_they_get_alone()
    {
        var texts = Enumerable.Range(0, 12).Select(i => fixture.Documents[i % fixture.Documents.Length]).ToArray();
        float[][] expected = texts.Select(t => fixture.Export.Documents[Array.IndexOf(fixture.Documents, t)]).ToArray();

        // one at a time, no waiting: one model call per request
        float[][] alone;
        await using (var server = await ServingFixture.StartAsync(fixture.Options() with { MaxWaitMs = 0 }))
        {
            alone = new float[texts.Length][];
            for (int i = 0; i < texts.Length; i++)
                alone[i] = TeiVectors((await PostAsync(server.Address, "/embed", new { inputs = texts[i] })).Json)[0];
            Assert.Equal(texts.Length, server.Stats.Batches);
        }

        // all at once, a batch waiting up to 1 s for company: far fewer model calls
        await using (var server = await ServingFixture.StartAsync(fixture.Options() with { MaxWaitMs = 1000 }))
        {
            var responses = await Task.WhenAll(texts.Select((t, i) => i % 2 == 0
                ? PostAsync(server.Address, "/embed", new { inputs = t })
                : PostAsync(server.Address, "/v1/embeddings", new { input = t })));
            Assert.All(responses, r => Assert.Equal(200, r.Status));
            var batched = responses.Select((r, i) => i % 2 == 0 ? TeiVectors(r.Json)[0] : OpenAiVectors(r.Json)[0]).ToArray();
            var stats = server.Stats;
            Assert.Equal(texts.Length, stats.Inputs);
            Assert.True(stats.Batches < texts.Length / 2, $"{stats.Batches} model calls for {texts.Length} concurrent requests");
            Assert.True(stats.LargestBatch >= 3, $"largest batch {stats.LargestBatch}");
            Assert.True(stats.PaddedTokens > stats.Tokens); // texts of different lengths shared padded batches
            var metrics = (await GetAsync(server.Address, "/metrics")).Body;
            Assert.Contains($"trainer_serve_batches_total {stats.Batches}\n", metrics);
            Assert.Contains($"trainer_serve_inputs_total {texts.Length}\n", metrics);

            AssertClose(alone, batched, 1e-5, "batched vs one at a time");
            AssertClose(expected, batched, 1e-5, "batched vs trainer embed");
        }
        AssertClose(expected, alone, 1e-5, "one at a time vs trainer embed");
    }
}
