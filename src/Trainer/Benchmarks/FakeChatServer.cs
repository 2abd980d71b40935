using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Trainer.Benchmarks;

/// <summary>
/// An OpenAI-compatible chat server on Kestrel that answers at once, for <c>trainer benchmark synth</c> and the
/// synth tests: <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c> on 127.0.0.1 (port 0: a free one).
/// Scripted replies (<see cref="Script"/>) are used first, in order; then every request gets a valid answer built
/// from its prompt and seed: a JSON list of 20 tasks for a brainstorm, else a JSON object with the keys the prompt
/// names, whose texts carry the seed (so distinct seeds give distinct rows).
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly ConcurrentQueue<(JsonElement Body, string? Authorization)> _received = new();

    private int _inFlight, _maxInFlight;

    private FakeChatServer(WebApplication app) => _app = app;

    /// <summary>The most chat requests the server has held at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>The base URL clients take, ending in /v1.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The request bodies received so far, with their Authorization header, in arrival order.</summary>
    public IReadOnlyList<(JsonElement Body, string? Authorization)> Received => _received.ToArray();

    /// <summary>Completion tokens each valid answer reports (its usage; prompt tokens are the prompt's length / 4).</summary>
    public int CompletionTokens { get; init; } = 100;

    public static async Task<FakeChatServer> StartAsync(params FakeReply[] script)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var server = new FakeChatServer(app);
        server.Script(script);
        app.MapGet("/v1/models", context => Write(context, 200, """{"object":"list","data":[{"id":"fake","object":"model","owned_by":"trainer"}]}"""));
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/') + "/v1";
        return server;
    }

    /// <summary>Queues replies for the next requests.</summary>
    public void Script(params FakeReply[] replies)
    {
        foreach (var reply in replies) _script.Enqueue(reply);
    }

    private async Task HandleAsync(HttpContext context)
    {
        int now = Interlocked.Increment(ref _inFlight);
        for (int seen = Volatile.Read(ref _maxInFlight); now > seen && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen; seen = Volatile.Read(ref _maxInFlight))
        {
        }
        try
        {
            await AnswerAsync(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body);
        var body = doc.RootElement.Clone();
        _received.Enqueue((body, context.Request.Headers.Authorization.FirstOrDefault()));
        var reply = _script.TryDequeue(out var scripted) ? scripted : FakeReply.Valid();
        if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, context.RequestAborted);
        if (reply.Reset)
        {
            context.Abort();
            return;
        }
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
        if (reply.Status != 200)
        {
            await Write(context, reply.Status, reply.Body ?? "{}");
            return;
        }
        string prompt = body.GetProperty("messages")[0].GetProperty("content").GetString() ?? "";
        string content = reply.Content ?? ValidAnswer(prompt, body.TryGetProperty("seed", out var s) ? s.GetInt32() : 0);
        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["model"] = body.GetProperty("model").GetString(),
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
                ["finish_reason"] = reply.FinishReason,
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length / 4, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = prompt.Length / 4 + CompletionTokens },
        };
        await Write(context, 200, completion.ToJsonString());
    }

    /// <summary>A valid answer to <paramref name="prompt"/>: tasks for a brainstorm (one asking for a list), else an object with the keys the prompt quotes.</summary>
    public static string ValidAnswer(string prompt, int seed)
    {
        if (!prompt.Contains("JSON object", StringComparison.Ordinal))
            return JsonSerializer.Serialize(Enumerable.Range(0, 20).Select(i => $"Task {i} of brainstorm {seed}: given a text, find what matches it"));
        string[] keys = prompt.Contains("\"user_query\"", StringComparison.Ordinal) ? ["user_query", "positive_document", "hard_negative_document"]
            : prompt.Contains("\"input_text\"", StringComparison.Ordinal) ? ["input_text", "label", "misleading_label"]
            : prompt.Contains("\"S1\"", StringComparison.Ordinal) ? ["S1", "S2", "S3"]
            : ["input", "positive_document"];
        var answer = new JsonObject();
        foreach (var key in keys) answer[key] = $"{key} text for seed {seed}";
        return answer.ToJsonString();
    }

    private static Task Write(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(json)).AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
