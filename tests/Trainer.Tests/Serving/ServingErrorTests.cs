using System.Text.Json;
using Trainer.Serving;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// Every malformed or over-limit request gets a 4xx with an OpenAI-style JSON error naming what was wrong, and the
/// server answers the next request as before; a model error is a 500 JSON error and the server goes on.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingErrorTests(ServingFixture fixture)
{
    private static readonly string Long = string.Join(' ', Enumerable.Repeat("a rather long sentence about diffusion tensor imaging", 8));

    public static TheoryData<string, string, int, string, string> BadRequests => new()
    {
        { "/v1/embeddings", """{"input": ["a", """, 400, "invalid_json", "not valid JSON" },
        { "/v1/embeddings", "", 400, "invalid_json", "not valid JSON" },
        { "/v1/embeddings", """["a"]""", 400, "invalid_json", "must be a JSON object, got an array" },
        { "/v1/embeddings", """{"model": "m"}""", 400, "missing_field", "input is required" },
        { "/v1/embeddings", """{"input": 5}""", 400, "invalid_type", "input must be a string or an array of strings, got a number (5)" },
        { "/v1/embeddings", """{"input": []}""", 400, "empty_input", "input is an empty array" },
        { "/v1/embeddings", """{"input": ["ok", ""]}""", 400, "empty_string", "input[1] is an empty string" },
        { "/v1/embeddings", """{"input": " \n "}""", 400, "empty_string", "input is whitespace only" },
        { "/v1/embeddings", """{"input": [[1, 2, 3]]}""", 400, "invalid_type", "token ids are not accepted" },
        { "/v1/embeddings", """{"input": ["a", {"text": "b"}]}""", 400, "invalid_type", "input[1] must be a string, got an object" },
        { "/v1/embeddings", """{"input": ["a", "b", "c", "d", "e"]}""", 413, "too_many_inputs", "input has 5 inputs; the limit is 4" },
        { "/v1/embeddings", JsonSerializer.Serialize(new { input = new[] { "short", Long } }), 413, "input_too_long", "input[1] is longer than 24 tokens" },
        { "/v1/embeddings", """{"input": "a", "encoding_format": "int8"}""", 400, "unsupported_value", "encoding_format = \"int8\" is not supported; allowed: \"float\", \"base64\"" },
        { "/v1/embeddings", """{"input": "a", "dimensions": 16}""", 400, "unsupported_value", "allowed: 32 (its full size" },
        { "/v1/embeddings", """{"input": "a", "dimensions": "all"}""", 400, "invalid_type", "dimensions must be an integer" },
        { "/v1/embeddings", """{"input": "a", "input_type": "passage"}""", 400, "unsupported_value", "input_type = \"passage\"" },
        { "/v1/embeddings", """{"input": "a", "model": 5}""", 400, "invalid_type", "model must be a string" },
        { "/v1/embeddings", """{"input": "a", "instruction": "  "}""", 400, "invalid_value", "instruction is whitespace only" },
        { "/embed", """{"input": "a"}""", 400, "missing_field", "inputs is required" },
        { "/embed", """{"inputs": "a", "normalize": false}""", 400, "unsupported_value", "normalize: false is not supported" },
        { "/embed", """{"inputs": "a", "truncate": "yes"}""", 400, "invalid_type", "truncate must be true or false, got a string" },
        { "/embed", """{"inputs": "a", "prompt_name": "passage"}""", 400, "unsupported_value", "prompt_name = \"passage\" is not supported; allowed: \"query\", \"document\"" },
        { "/embed", """{"inputs": "a", "prompt_name": "document", "instruction": "x"}""", 400, "invalid_value", "instruction applies to queries" },
        { "/embed", """{"inputs": "a", "truncation_direction": "left"}""", 400, "unsupported_value", "truncation_direction: left is not supported" },
        { "/embed", JsonSerializer.Serialize(new { inputs = Long, truncate = false }), 413, "input_too_long", "inputs is longer than 24 tokens" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_gets_a_json_error_and_the_server_answers_the_next_one(string path, string body, int status, string code, string message)
    {
        var server = await fixture.ErrorServer;
        var response = await PostRawAsync(server.Address, path, body);
        Assert.Equal(status, response.Status);
        var error = response.Json.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(status == 429 ? "rate_limit_error" : "invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        await AssertServes(server);
    }

    [Theory]
    [InlineData("GET", "/v1/embeddings", 405, "method_not_allowed")]
    [InlineData("POST", "/health", 405, "method_not_allowed")]
    [InlineData("GET", "/v2/embeddings", 404, "not_found")]
    public async Task An_unknown_route_or_method_gets_a_json_error(string method, string path, int status, string code)
    {
        var server = await fixture.ErrorServer;
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(server.Address, path));
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(status, (int)response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(code, json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("/v1/embeddings", json.GetProperty("error").GetProperty("message").GetString());
        await AssertServes(server);
    }

    [Fact]
    public async Task Head_health_is_answered_like_get_without_a_body()
    {
        var server = await fixture.ErrorServer;
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(server.Address, "/health"));
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(414, "uri_too_long")]
    [InlineData(431, "headers_too_large")]
    public async Task A_too_long_request_line_or_too_large_headers_get_a_json_error(int status, string code)
    {
        var server = await fixture.ErrorServer;
        var path = status == 414 ? "/health?" + new string('q', 20_000) : "/health";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, path));
        if (status == 431) request.Headers.Add("X-Padding", new string('h', 40_000));
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(status, (int)response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(code, json.GetProperty("error").GetProperty("code").GetString());
        await AssertServes(server);
    }

    [Fact]
    public async Task A_long_input_is_refused_by_default_here_and_cut_like_trainer_embed_when_the_request_asks()
    {
        var server = await fixture.ErrorServer; // --truncate false
        var refused = await PostAsync(server.Address, "/embed", new { inputs = fixture.Documents[1] });
        Assert.Equal(413, refused.Status);
        var cut = await PostAsync(server.Address, "/embed", new { inputs = fixture.Documents[1], truncate = true });
        Assert.Equal(200, cut.Status);
        AssertClose([fixture.Export.Documents[1]], TeiVectors(cut.Json), 1e-5, "truncated like trainer embed --max-length 24");
        var openAi = await PostAsync(server.Address, "/v1/embeddings", new { input = fixture.Documents[1], truncate = true });
        AssertClose([fixture.Export.Documents[1]], OpenAiVectors(openAi.Json), 1e-5, "truncated through /v1/embeddings");
    }

    [Fact]
    public async Task Requests_beyond_the_concurrency_limit_get_429_at_once()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { MaxConcurrentRequests = 1, MaxWaitMs = 3000 });
        var first = PostAsync(server.Address, "/embed", new { inputs = "held in the queue for 3 s" });
        while (server.Stats.Queued == 0) await Task.Delay(10, TestContext.Current.CancellationToken);
        var second = await PostAsync(server.Address, "/embed", new { inputs = "one too many" });
        Assert.Equal(429, second.Status);
        Assert.Equal("rate_limit_error", second.Json.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("--max-concurrent-requests", second.Json.GetProperty("error").GetProperty("message").GetString());
        Assert.False(first.IsCompleted); // refused at once, not after the held request
        Assert.Equal(200, (await first).Status);
        Assert.Equal(200, (await PostAsync(server.Address, "/embed", new { inputs = "now there is room" })).Status);
    }

    [Fact]
    public async Task A_model_error_is_a_500_json_error_without_server_internals_and_the_server_goes_on()
    {
        var options = fixture.Options();
        var model = ServedModel.Resolve(options, TextWriter.Null);
        var engine = new ThrowingEngine(model.LoadEngine(options)) { Fail = true }; // its message names a server path
        var log = new StringWriter();
        await using var server = await EmbeddingServer.StartAsync(model, engine, model.LoadTokenizer(), options, log, TestContext.Current.CancellationToken);

        var failed = await PostAsync(server.Address, "/v1/embeddings", new { input = fixture.Documents });
        Assert.Equal(500, failed.Status);
        var error = failed.Json.GetProperty("error");
        Assert.Equal(("server_error", "model_error"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("The model failed on this request", message);
        Assert.DoesNotContain(ThrowingEngine.Path, message);  // no server internals for clients
        Assert.DoesNotContain("ExternalException", message);
        Assert.Contains(ThrowingEngine.Path, log.ToString()); // the operator's log has them

        engine.Fail = false;
        var ok = await PostAsync(server.Address, "/v1/embeddings", new { input = fixture.Documents });
        Assert.Equal(200, ok.Status);
        AssertClose(fixture.Export.Documents, OpenAiVectors(ok.Json), 1e-5, "after the error");
        Assert.Equal(1, server.Stats.FailedBatches);
    }

    private async Task AssertServes(EmbeddingServer server)
    {
        var ok = await PostAsync(server.Address, "/v1/embeddings", new { input = fixture.Documents[0] });
        Assert.Equal(200, ok.Status);
        AssertClose([fixture.Export.Documents[0]], OpenAiVectors(ok.Json), 1e-5, "the next request");
    }
}
