using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trainer.Synthesis;

/// <summary>
/// Sends chat completions to any OpenAI-compatible server: <c>POST {base}/chat/completions</c> with
/// <c>Authorization: Bearer KEY</c> when a key is given (the key is never logged or stored). Retries follow
/// <see cref="RetryPolicy"/>; 400, 404, 422 and other client errors are answered as failures at once; 401 and 403, and
/// a 404 that names the model, throw <see cref="SynthAbortException"/>.
/// </summary>
public sealed class ChatClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _completions;
    private readonly string _model;
    private readonly RetryPolicy _retry;
    private readonly RateLimiter? _limiter;
    private readonly JsonMode _jsonMode;
    private readonly TimeSpan _timeout;
    private readonly Random _jitter = new();

    public ChatClient(string baseUrl, string model, string? apiKey, RetryPolicy retry, JsonMode jsonMode, TimeSpan timeout, int connections, RateLimiter? limiter = null)
    {
        BaseUrl = NormalizeBase(baseUrl);
        _completions = Endpoint(BaseUrl, "chat/completions");
        (_model, _retry, _jsonMode, _timeout, _limiter) = (model, retry, jsonMode, timeout, limiter);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, connections),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(apiKey)) _http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
    }

    /// <summary>The base URL without a trailing slash, e.g. http://localhost:8000/v1.</summary>
    public string BaseUrl { get; }

    /// <summary>
    /// {base}/<paramref name="path"/>, keeping a query the base carries (Azure OpenAI's <c>?api-version=…</c>), e.g.
    /// http://localhost:8000/v1 → http://localhost:8000/v1/chat/completions.
    /// </summary>
    public static Uri Endpoint(string baseUrl, string path)
    {
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + "/" + path;
        return builder.Uri;
    }

    /// <summary>Checks the URL's form: absolute http(s). Returns it without a trailing slash.</summary>
    public static string NormalizeBase(string baseUrl)
    {
        if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--base-url: expected an http(s) URL such as http://localhost:8000/v1, got \"{baseUrl}\".");
        return uri.Query.Length > 0 ? uri.ToString() : uri.ToString().TrimEnd('/');
    }

    /// <summary>
    /// Fails within <paramref name="timeout"/> with one line when nothing answers at the base URL (any HTTP status
    /// counts as an answer, except 401/403, which stop the run as a refused key would).
    /// </summary>
    public async Task CheckReachableAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await _http.GetAsync(Endpoint(BaseUrl, "models"), cts.Token);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw new SynthAbortException(Refused(response.StatusCode, await response.Content.ReadAsStringAsync(cts.Token)));
        }
        catch (HttpRequestException e)
        {
            throw new SynthAbortException($"the server at {BaseUrl} does not answer ({Innermost(e)}); is it running, and is --base-url right?");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SynthAbortException($"the server at {BaseUrl} did not answer within {timeout.TotalSeconds:0} s; is it running, and is --base-url right?");
        }
    }

    /// <summary>The request body (OpenAI chat completions).</summary>
    public string Body(ChatRequest request)
    {
        var body = new JsonObject
        {
            ["model"] = _model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = request.Prompt }),
            ["temperature"] = request.Temperature,
            ["top_p"] = request.TopP,
            ["max_tokens"] = request.MaxTokens,
            ["seed"] = request.Seed,
            ["n"] = 1,
        };
        var format = (_jsonMode, request.Keys) switch
        {
            (JsonMode.Schema, var keys) => StructuredOutput(keys),
            (_, null) => null, // brainstorms answer a list, which the JSON object modes would forbid
            (JsonMode.OpenAi, _) => new JsonObject { ["type"] = "json_object" },
            (JsonMode.Tgi, var keys) => new JsonObject { ["type"] = "json_object", ["value"] = Schema(keys) },
            _ => null,
        };
        if (format is not null) body["response_format"] = format;
        return body.ToJsonString();
    }

    public async Task<ChatAnswer> SendAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        string body = Body(request);
        var errors = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            if (_limiter is not null) await _limiter.WaitAsync(RateLimiter.EstimateTokens(request.Prompt) + request.MaxTokens, cancellationToken);
            HttpResponseMessage? response = null;
            string error;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(_timeout);
                using var message = new HttpRequestMessage(HttpMethod.Post, _completions) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                response = await _http.SendAsync(message, cts.Token);
                string text = await response.Content.ReadAsStringAsync(cts.Token);
                if (response.IsSuccessStatusCode) return Read(text, attempt, errors, clock.Elapsed.TotalMilliseconds);
                int code = (int)response.StatusCode;
                if (code is 401 or 403) throw new SynthAbortException(Refused(response.StatusCode, text));
                if (code == 404 && text.Contains("model", StringComparison.OrdinalIgnoreCase))
                    throw new SynthAbortException($"the server at {BaseUrl} does not know the model \"{_model}\" (404: {ErrorMessage(text)}); check --model.");
                errors.Add(code.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!RetryPolicy.IsRetryable(response.StatusCode))
                    return Failed($"http {code}: {ErrorMessage(text)}", attempt, errors, clock);
                error = $"http {code}";
            }
            catch (HttpRequestException e)
            {
                errors.Add("connection");
                error = $"connection ({Innermost(e)})";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Add("timeout");
                error = $"timeout after {_timeout.TotalSeconds:0.###} s";
            }
            finally
            {
                response?.Dispose();
            }
            if (attempt >= _retry.MaxAttempts) return Failed($"{error} ({attempt} attempts)", attempt, errors, clock);
            TimeSpan wait;
            lock (_jitter) wait = _retry.Delay(attempt, response?.Headers, _jitter, DateTimeOffset.UtcNow);
            await Task.Delay(wait, cancellationToken);
        }
    }

    private static ChatAnswer Read(string text, int attempt, List<string> errors, double latencyMs)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var choice = root.GetProperty("choices")[0];
            string? content = choice.GetProperty("message").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            string? finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            int prompt = 0, completion = 0;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                if (usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out int pt)) prompt = pt;
                if (usage.TryGetProperty("completion_tokens", out var q) && q.TryGetInt32(out int ct)) completion = ct;
            }
            return new ChatAnswer(content ?? "", finish, prompt, completion, attempt, errors, latencyMs, null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            return new ChatAnswer(null, null, 0, 0, attempt, errors, latencyMs, "the server's 2xx body is not a chat completion");
        }
    }

    private static ChatAnswer Failed(string failure, int attempt, List<string> errors, Stopwatch clock) =>
        new(null, null, 0, 0, attempt, errors, clock.Elapsed.TotalMilliseconds, failure);

    private string Refused(HttpStatusCode status, string body) =>
        $"the server at {BaseUrl} refused the request ({(int)status}: {ErrorMessage(body)}); set OPENAI_API_KEY (or name the variable with --api-key-env) to a key it accepts.";

    /// <summary>The <c>error.message</c> of an OpenAI-style error body, else the body's first 200 characters on one line.</summary>
    private static string ErrorMessage(string body)
    {
        if (LenientJson.TryParse(body, out var json) && json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var error))
        {
            if (error.ValueKind == JsonValueKind.String) return error.GetString()!;
            if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) return m.GetString()!;
        }
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? "no body" : line.Length > 200 ? line[..200] + "…" : line;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    /// <summary>An object whose <paramref name="keys"/> are all required strings.</summary>
    private static JsonObject Schema(IReadOnlyList<string> keys) => ObjectOf(keys, () => new JsonObject { ["type"] = "string" });

    /// <summary>
    /// OpenAI's structured outputs: a generation's keys as required strings, or for a brainstorm (no keys)
    /// <c>{"tasks": [string, …]}</c> with at least one task (a weak model's grammar-bound answer is otherwise often
    /// <c>[]</c>), since the root must be an object. Strict mode also wants <c>additionalProperties: false</c>.
    /// </summary>
    private static JsonObject StructuredOutput(IReadOnlyList<string>? keys)
    {
        var schema = keys is null
            ? ObjectOf(["tasks"], () => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["minItems"] = 1 })
            : Schema(keys);
        schema["additionalProperties"] = false;
        return new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject { ["name"] = keys is null ? "tasks" : "example", ["strict"] = true, ["schema"] = schema },
        };
    }

    private static JsonObject ObjectOf(IReadOnlyList<string> keys, Func<JsonObject> property)
    {
        var properties = new JsonObject();
        foreach (var key in keys) properties[key] = property();
        return new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray(keys.Select(k => (JsonNode)JsonValue.Create(k)).ToArray()),
        };
    }

    public void Dispose() => _http.Dispose();
}
