using System.Text;
using System.Text.Json;

namespace Trainer.Tests.Serving;

/// <summary>Plain HTTP against a test server: JSON in, status and JSON out.</summary>
public static class ServingHttp
{
    public static HttpClient Client { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    public sealed record Response(int Status, JsonElement Json, string Body);

    public static Task<Response> PostAsync(Uri server, string path, object body) => PostRawAsync(server, path, JsonSerializer.Serialize(body));

    public static async Task<Response> PostRawAsync(Uri server, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync(new Uri(server, path), content, TestContext.Current.CancellationToken);
        return await Read(response);
    }

    public static async Task<Response> GetAsync(Uri server, string path)
    {
        using var response = await Client.GetAsync(new Uri(server, path), TestContext.Current.CancellationToken);
        return await Read(response);
    }

    /// <summary>The vectors of an OpenAI response, by index.</summary>
    public static float[][] OpenAiVectors(JsonElement json) =>
        json.GetProperty("data").EnumerateArray().OrderBy(d => d.GetProperty("index").GetInt32()).Select(d => Golden.Floats(d.GetProperty("embedding"))).ToArray();

    /// <summary>The vectors of a text-embeddings-inference response.</summary>
    public static float[][] TeiVectors(JsonElement json) => json.EnumerateArray().Select(Golden.Floats).ToArray();

    public static void AssertClose(float[][] expected, float[][] actual, double tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} vectors, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Golden.MaxAbsDiff(expected[i], actual[i]);
            Assert.True(diff <= tolerance, $"{what}[{i}]: max abs diff {diff:E2} > {tolerance:E0}");
        }
    }

    private static async Task<Response> Read(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        JsonElement json = default;
        if (body.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json") json = JsonDocument.Parse(body).RootElement;
        return new Response((int)response.StatusCode, json, body);
    }
}
