using System.Net;
using System.Text.Json;
using Trainer.Serving;
using Trainer.Tests.Cli;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// Where and for whom the server listens: host names, bind failures as one line, a warning when it listens beyond this
/// machine, the optional API key and opt-in CORS.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingNetworkTests(ServingFixture fixture)
{
    [Fact]
    public async Task Host_localhost_is_accepted_and_binds_the_loopback_address()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { Host = "localhost" });
        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.Equal(200, (await GetAsync(server.Address, "/health")).Status);
    }

    [Fact]
    public async Task The_host_is_resolved_once_with_the_model_and_the_server_binds_and_warns_by_that_address()
    {
        var options = fixture.Options() with { Host = "localhost" };
        var model = ServedModel.Resolve(options, TextWriter.Null);
        Assert.Equal(IPAddress.Loopback, model.ListenAddress);
        var log = new StringWriter();
        // a name that does not resolve: the server must not look the host up again
        var unresolvable = options with { Host = "no-such-host.invalid" };
        await using (var server = await EmbeddingServer.StartAsync(model, model.LoadEngine(options), model.LoadTokenizer(), unresolvable, log, TestContext.Current.CancellationToken))
        {
            Assert.Equal("127.0.0.1", server.Address.Host);
        }
        Assert.DoesNotContain("warning", log.ToString());
    }

    [Fact]
    public void A_bind_failure_is_one_error_line_naming_host_port_and_reason()
    {
        var result = CliRunner.Run("serve", "--model", fixture.ExportDir, "--host", "192.0.2.1", "--port", "0"); // TEST-NET-1: on no machine
        Assert.Equal(1, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("serve: ")).ToArray();
        var line = Assert.Single(lines);
        Assert.StartsWith("error: cannot listen on 192.0.2.1:0: ", line);
        Assert.Contains("not an address of this machine", line);
    }

    [Fact]
    public async Task Listening_beyond_this_machine_without_an_api_key_logs_a_warning()
    {
        var log = new StringWriter();
        await using (await EmbeddingServer.StartAsync(fixture.Options() with { Host = "0.0.0.0" }, log, TestContext.Current.CancellationToken))
        {
        }
        Assert.Contains("serve: warning: listening on 0.0.0.0, beyond this machine, with no authentication", log.ToString());

        var loopback = new StringWriter();
        await using (await EmbeddingServer.StartAsync(fixture.Options(), loopback, TestContext.Current.CancellationToken))
        {
        }
        Assert.DoesNotContain("warning", loopback.ToString());
    }

    [Fact]
    public async Task With_an_api_key_requests_need_the_bearer_token_and_health_stays_open()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { ApiKey = "s3cret-key" });
        foreach (var (authorization, code) in new[] { ((string?)null, "needs an API key"), ("Bearer wrong-key", "is wrong"), ("s3cret-key", "is wrong") })
        {
            var refused = await Send(server.Address, HttpMethod.Post, "/v1/embeddings", authorization);
            Assert.Equal(401, (int)refused.StatusCode);
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.ToString());
            var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Contains(code, error.GetProperty("message").GetString());
        }
        Assert.Equal(401, (int)(await Send(server.Address, HttpMethod.Get, "/metrics", null)).StatusCode);
        Assert.Equal(200, (int)(await Send(server.Address, HttpMethod.Get, "/health", null)).StatusCode);
        var ok = await Send(server.Address, HttpMethod.Post, "/v1/embeddings", "Bearer s3cret-key");
        Assert.Equal(200, (int)ok.StatusCode);
    }

    [Fact]
    public async Task Cors_answers_the_preflight_and_names_only_the_allowed_origin()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { CorsOrigins = ["http://localhost:5173"] });
        using var preflight = new HttpRequestMessage(HttpMethod.Options, new Uri(server.Address, "/v1/embeddings"));
        preflight.Headers.Add("Origin", "http://localhost:5173");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var answer = await Client.SendAsync(preflight, TestContext.Current.CancellationToken);
        Assert.Equal(204, (int)answer.StatusCode);
        Assert.Equal("http://localhost:5173", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", answer.Headers.GetValues("Access-Control-Allow-Methods").Single());

        var allowed = await Send(server.Address, HttpMethod.Post, "/v1/embeddings", null, "http://localhost:5173");
        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Equal("http://localhost:5173", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var other = await Send(server.Address, HttpMethod.Post, "/v1/embeddings", null, "http://evil.example");
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        await using var closed = await ServingFixture.StartAsync(fixture.Options()); // without --cors-origin: no CORS headers at all
        var none = await Send(closed.Address, HttpMethod.Post, "/v1/embeddings", null, "http://localhost:5173");
        Assert.False(none.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static async Task<HttpResponseMessage> Send(Uri server, HttpMethod method, string path, string? authorization, string? origin = null)
    {
        var request = new HttpRequestMessage(method, new Uri(server, path));
        if (method == HttpMethod.Post) request.Content = new StringContent("{\"input\": \"a\"}", System.Text.Encoding.UTF8, "application/json");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (origin is not null) request.Headers.Add("Origin", origin);
        var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        await response.Content.LoadIntoBufferAsync(TestContext.Current.CancellationToken);
        return response;
    }
}
