using System.Text.Json;
using Trainer.Tests.Interop;

namespace Trainer.Tests.Serving;

/// <summary>A short load test, as CI can afford it: autocannon with 32 connections for a few seconds, and not one error or non-2xx answer.</summary>
[Collection(ServingCollection.Name)]
public class ServingLoadTests(ServingFixture fixture)
{
    [Theory]
    [InlineData("/v1/embeddings", "torch")]
    [InlineData("/embed", "onnx")]
    public async Task Thirty_two_connections_for_three_seconds_get_only_2xx(string endpoint, string engine)
    {
        var texts = Path.Combine(TestPaths.TempDir("load"), "texts.jsonl");
        File.WriteAllLines(texts, fixture.Documents.Concat(fixture.Queries).Select(t => JsonSerializer.Serialize(new { text = t })));
        await using var server = await ServingFixture.StartAsync(fixture.Options("export", engine));
        var run = await Task.Run(() => NodeRunner.Run("load-test.mjs", "--url", server.Address.ToString().TrimEnd('/'), "--endpoint", endpoint,
            "--connections", "32", "--duration", "3", "--inputs", "2", "--texts", texts), TestContext.Current.CancellationToken);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var summary = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        Assert.Equal(0, summary.GetProperty("timeouts").GetInt32());
        Assert.Equal(0, summary.GetProperty("non2xx").GetInt32());
        int requests = summary.GetProperty("requests").GetInt32();
        Assert.True(requests >= 32, $"{requests} requests");
        Assert.Equal(requests, summary.GetProperty("status_codes").GetProperty("200").GetInt32());

        var stats = server.Stats;
        Assert.True(stats.Inputs >= 2L * requests, $"{stats.Inputs} inputs embedded for {requests} answered requests");
        Assert.Equal(0, stats.FailedBatches);
        Assert.True(stats.Batches < stats.Inputs / 2, $"{stats.Batches} model calls for {stats.Inputs} inputs"); // 32 clients do share batches
    }
}
