using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Trainer.Serving;

/// <summary>
/// <c>trainer serve</c>: an HTTP embedding server on Kestrel with minimal APIs, in three layers as text-embeddings-inference
/// has them: these endpoints → <see cref="EmbeddingService"/> (limits, tokenization) → <see cref="EmbeddingBatcher"/>
/// (one worker and one model). Endpoints: <c>POST /v1/embeddings</c> (OpenAI), <c>POST /embed</c>
/// (text-embeddings-inference), <c>GET /health</c>, <c>GET /v1/models</c>, <c>GET /metrics</c> (Prometheus text).
/// Every refusal is a JSON error (<see cref="ApiError"/>); a model error fails its requests with 500 and the server goes
/// on. Stopping (SIGTERM, Ctrl-C or <see cref="StopAsync"/>) stops accepting connections, lets the requests in flight and
/// their queued inputs finish, then releases the model. Tests start it in-process on a free port (<c>Port = 0</c>).
/// </summary>
public sealed class EmbeddingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EmbeddingBatcher _batcher;
    private readonly IEmbeddingEngine _engine;
    private readonly EmbeddingService _service;
    private readonly ServeOptions _options;
    private readonly TextWriter _log;
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _responses = new();
    private readonly ByteBudget _bodyBudget;
    /// <summary>How long the server stays idle after work before it compacts the heap and returns the memory of a burst.</summary>
    private static readonly TimeSpan IdleCollect = TimeSpan.FromSeconds(2);

    private int _active;
    private long _errors;
    private bool _disposed;

    private EmbeddingServer(ServedModel model, IEmbeddingEngine engine, Text.EmbeddingTokenizer tokenizer, EmbeddingBatcher batcher, ServeOptions options,
        TextWriter log)
    {
        (_engine, _batcher, _options, _log) = (engine, batcher, options, log);
        _service = new EmbeddingService(model, tokenizer, batcher, engine.Dimensions, options);
        _bodyBudget = new ByteBudget(options.MaxBodyBytesInFlight);
        _app = Build(model, options);
    }

    /// <summary>The address it listens on, e.g. http://127.0.0.1:8080 (the port actually bound when 0 was asked for).</summary>
    public Uri Address { get; private set; } = null!;

    public ServedModel Model => _service.Model;

    public BatcherStats Stats => _batcher.Stats;

    /// <summary>Resolves and loads the model the options name, then listens.</summary>
    public static Task<EmbeddingServer> StartAsync(ServeOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        var model = ServedModel.Resolve(options, log);
        var tokenizer = model.LoadTokenizer();
        return StartAsync(model, model.LoadEngine(options), tokenizer, options, log, cancellationToken);
    }

    /// <summary>Serves <paramref name="engine"/> (which the server then owns and disposes) with the model's tokenizer and settings.</summary>
    public static async Task<EmbeddingServer> StartAsync(ServedModel model, IEmbeddingEngine engine, Text.EmbeddingTokenizer tokenizer, ServeOptions options,
        TextWriter log, CancellationToken cancellationToken = default)
    {
        EmbeddingBatcher? batcher = null;
        EmbeddingServer? server = null;
        try
        {
            batcher = new EmbeddingBatcher(engine, options.MaxBatchTokens, TimeSpan.FromMilliseconds(options.MaxWaitMs), options.MaxQueuedTokens, IdleCollect);
            server = new EmbeddingServer(model, engine, tokenizer, batcher, options, log);
            try
            {
                await server._app.StartAsync(cancellationToken);
            }
            catch (Exception e) when (BindFailure.Reason(e) is { } reason)
            {
                throw new IOException($"cannot listen on {options.Host}:{options.Port}: {reason}", e);
            }
            server.Address = new Uri(server._app.Urls.First());
            server.LogStart();
            return server;
        }
        catch
        {
            if (server is not null) await server._app.DisposeAsync();
            batcher?.Dispose();
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Returns once a stop was asked for (SIGTERM, Ctrl-C, <see cref="StopAsync"/>) and the requests in flight have finished.</summary>
    public async Task WaitForShutdownAsync()
    {
        await _app.WaitForShutdownAsync();
        await DisposeAsync();
    }

    /// <summary>Stops accepting, finishes the requests in flight, releases the model.</summary>
    public async Task StopAsync()
    {
        await _app.StopAsync();
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _app.StopAsync(); // a no-op when stopped already
        _batcher.Dispose();     // embeds whatever is still queued
        _engine.Dispose();
        await _app.DisposeAsync();
        var stats = _batcher.Stats;
        _log.WriteLine($"serve: stopped after {_responses.Values.Sum()} request(s): {stats.Inputs} input(s) in {stats.Batches} batch(es)");
    }

    private WebApplication Build(ServedModel model, ServeOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            k.Limits.MinRequestBodyDataRate = options.MinBodyBytesPerSecond == 0 ? null : new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(options.MinBodyBytesPerSecond, TimeSpan.FromSeconds(5));
            k.Limits.MaxRequestLineSize = HeaderLimits.KestrelRequestLine;
            k.Limits.MaxRequestHeadersTotalSize = HeaderLimits.KestrelHeaders;
            k.Listen(model.ListenAddress, options.Port);
        });
        if (options.CorsOrigins.Count > 0)
            builder.Services.AddCors(c => c.AddDefaultPolicy(policy =>
            {
                if (options.CorsOrigins.Contains("*")) policy.AllowAnyOrigin();
                else policy.WithOrigins([.. options.CorsOrigins]);
                policy.WithMethods("GET", "HEAD", "POST").WithHeaders("content-type", "authorization");
            }));
        var app = builder.Build();
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            _log.WriteLine($"serve: stopping: no new connections; finishing {Volatile.Read(ref _active)} request(s) in flight");
            _batcher.Drain(); // queued inputs run now, not after --max-wait-ms: shutdown must not outwait them
        });
        app.Use((context, next) => HeaderLimits.Check(context) is { } tooLarge ? Send(context, tooLarge) : next(context));
        if (options.CorsOrigins.Count > 0) app.UseCors();
        if (options.ApiKey is { } key)
        {
            var check = new ApiKeyCheck(key);
            app.Use((context, next) =>
            {
                if (check.Allows(context.Request)) return next(context);
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return Send(context, ApiKeyCheck.Refusal(context.Request));
            });
        }
        app.UseStatusCodePages(context => Send(context.HttpContext, Unrouted(context.HttpContext)));
        app.MapPost("/v1/embeddings", context => Handle(context, "/v1/embeddings", RequestParser.ParseOpenAi,
            (request, result) => ResponseJson.OpenAi(request, result, _service.Model.Name)));
        app.MapPost("/embed", context => Handle(context, "/embed", RequestParser.ParseTei, (_, result) => ResponseJson.Tei(result)));
        app.MapMethods("/health", [HttpMethods.Get, HttpMethods.Head], context => SendJson(context, 200, Health()));
        app.MapGet("/v1/models", context => SendJson(context, 200, ResponseJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            w.WriteStartObject();
            w.WriteString("id", _service.Model.Name);
            w.WriteString("object", "model");
            w.WriteNumber("created", 0);
            w.WriteString("owned_by", "trainer");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        })));
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            return context.Response.WriteAsync(Metrics());
        });
        return app;
    }

    private async Task Handle(HttpContext context, string endpoint, Func<System.Text.Json.JsonElement, EmbeddingRequest> parse,
        Func<EmbeddingRequest, EmbeddingResult, byte[]> respond)
    {
        int status;
        bool slot = false;
        try
        {
            using var body = await RequestBody.ReadAsync(context.Request, _bodyBudget, _options, context.RequestAborted);
            System.Text.Json.JsonDocument document;
            try
            {
                document = System.Text.Json.JsonDocument.Parse(body.Bytes);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw ApiError.BadRequest("invalid_json", $"The request body is not valid JSON: {e.Message}");
            }
            using (document)
            {
                var request = parse(document.RootElement);
                slot = true; // only now, with the body read and parsed: a slow upload holds no slot
                if (Interlocked.Increment(ref _active) > _options.MaxConcurrentRequests)
                    throw new ApiError(429, "too_many_requests", $"The server is handling {_options.MaxConcurrentRequests} requests already " +
                                                                 "(--max-concurrent-requests); retry later.");
                var result = await _service.EmbedAsync(request, context.RequestAborted);
                await SendJson(context, status = 200, respond(request, result));
            }
        }
        catch (ApiError e)
        {
            await Send(context, e);
            status = e.Status;
        }
        catch (BadHttpRequestException e)
        {
            await Send(context, new ApiError(e.StatusCode, e.StatusCode == 413 ? "body_too_large" : "bad_request", e.Message));
            status = e.StatusCode;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499; // the client went away; nobody reads an answer
        }
        catch (Exception e)
        {
            long id = Interlocked.Increment(ref _errors);
            _log.WriteLine($"serve: error {id}: {endpoint}: {e.GetType().FullName}: {e.Message}");
            await Send(context, new ApiError(500, "model_error", $"The model failed on this request (error {id} in the server's log); the server keeps running."));
            status = 500;
        }
        finally
        {
            if (slot) Interlocked.Decrement(ref _active);
        }
        _responses.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
    }

    /// <summary>The JSON error of a request no endpoint took (404, or 405 for a known path with the wrong method).</summary>
    private static ApiError Unrouted(HttpContext context)
    {
        var (status, request) = (context.Response.StatusCode, $"{context.Request.Method} {context.Request.Path}");
        const string Endpoints = "POST /v1/embeddings, POST /embed, GET /health, GET /v1/models and GET /metrics";
        return status switch
        {
            404 => new ApiError(404, "not_found", $"{request}: no such endpoint; this server has {Endpoints}."),
            405 => new ApiError(405, "method_not_allowed", $"{request}: method not allowed (Allow: {context.Response.Headers.Allow}); this server has {Endpoints}."),
            _ => new ApiError(status, "http_error", $"{request}: HTTP {status}."),
        };
    }

    private static Task Send(HttpContext context, ApiError error) => SendJson(context, error.Status, ResponseJson.Error(error));

    private static async Task SendJson(HttpContext context, int status, byte[] body)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private byte[] Health() => ResponseJson.Write(w =>
    {
        var model = _service.Model;
        w.WriteStartObject();
        w.WriteString("status", "ok");
        w.WriteString("model", model.Name);
        w.WriteString("engine", _engine.Description);
        w.WriteNumber("dimensions", _service.Dimensions);
        w.WriteStartArray("allowed_dimensions"); // the request field dimensions: the full size and the trained Matryoshka dims
        foreach (var d in _service.Allowed.Allowed) w.WriteNumberValue(d);
        w.WriteEndArray();
        w.WriteNumber("max_input_tokens", model.MaxInputTokens);
        w.WriteBoolean("truncate", _options.Truncate);
        if (model.Instruction is null) w.WriteNull("default_instruction");
        else w.WriteString("default_instruction", model.Instruction);
        w.WriteNumber("max_inputs", _options.MaxInputs);
        w.WriteNumber("max_batch_tokens", _options.MaxBatchTokens);
        w.WriteNumber("max_wait_ms", _options.MaxWaitMs);
        w.WriteEndObject();
    });

    /// <summary>Counters in Prometheus' text format.</summary>
    private string Metrics()
    {
        var s = _batcher.Stats;
        var text = new StringBuilder();
        void Metric(string name, string type, string help, IEnumerable<(string Labels, double Value)> values)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
            foreach (var (labels, value) in values) text.Append(CultureInfo.InvariantCulture, $"{name}{labels} {value}\n");
        }
        Metric("trainer_serve_responses_total", "counter", "Responses by endpoint and HTTP status (499: the client went away).",
            _responses.OrderBy(r => r.Key).Select(r => ($"{{endpoint=\"{r.Key.Endpoint}\",status=\"{r.Key.Status}\"}}", (double)r.Value)));
        Metric("trainer_serve_requests_in_flight", "gauge", "Embedding requests being handled.", [("", Volatile.Read(ref _active))]);
        Metric("trainer_serve_queued_inputs", "gauge", "Inputs waiting for the model.", [("", s.Queued)]);
        Metric("trainer_serve_queued_tokens", "gauge", "Tokens waiting for the model (at most --max-queued-tokens).", [("", s.QueuedTokens)]);
        Metric("trainer_serve_body_bytes_in_flight", "gauge", "Request-body bytes held (at most --max-body-bytes-in-flight).", [("", _bodyBudget.Held)]);
        Metric("trainer_serve_gc_committed_bytes", "gauge", "Memory the .NET heap holds from the system (the rest of the RSS is native: libtorch, the runtime).",
            [("", GC.GetGCMemoryInfo().TotalCommittedBytes)]);
        Metric("trainer_serve_idle_collections_total", "counter", "Compacting collections run once idle after a burst.", [("", s.IdleCollections)]);
        Metric("trainer_serve_inputs_total", "counter", "Inputs embedded.", [("", s.Inputs)]);
        Metric("trainer_serve_batches_total", "counter", "Model calls (batches).", [("", s.Batches)]);
        Metric("trainer_serve_failed_batches_total", "counter", "Model calls that failed.", [("", s.FailedBatches)]);
        Metric("trainer_serve_request_cancelled_total", "counter", "Requests whose client went away while inputs were queued (those inputs never ran).",
            [("", s.CancelledRequests)]);
        Metric("trainer_serve_inputs_cancelled_total", "counter", "Queued inputs dropped because their client went away.", [("", s.CancelledInputs)]);
        Metric("trainer_serve_tokens_total", "counter", "Tokens embedded (BOS and EOS included).", [("", s.Tokens)]);
        Metric("trainer_serve_padded_tokens_total", "counter", "Tokens the model ran, padding included.", [("", s.PaddedTokens)]);
        Metric("trainer_serve_largest_batch", "gauge", "Most inputs in one batch so far.", [("", s.LargestBatch)]);
        Metric("trainer_serve_queue_seconds_total", "counter", "Time inputs waited before their batch ran, summed.", [("", s.QueueSeconds)]);
        Metric("trainer_serve_inference_seconds_total", "counter", "Time the model ran.", [("", s.InferenceSeconds)]);
        return text.ToString();
    }

    private void LogStart()
    {
        var model = _service.Model;
        _log.WriteLine($"serve: {model.Name}: {model.ModelDir}{(model.AdapterDir is null ? "" : $" + adapter {model.AdapterDir}")}, " +
                       $"{_engine.Description}, {_service.Dimensions} dimensions" +
                       (model.MatryoshkaDims is null ? "" : $" (Matryoshka: {string.Join(", ", _service.Allowed.Allowed)} on request)"));
        _log.WriteLine($"serve: max_input_tokens {model.MaxInputTokens} ({model.MaxInputTokensFrom}), {(_options.Truncate ? "longer inputs truncated" : "longer inputs refused (413)")}; " +
                       $"query instruction {(model.Instruction is null ? "none" : System.Text.Json.JsonSerializer.Serialize(model.Instruction))} ({model.InstructionFrom})");
        _log.WriteLine($"serve: batches of at most {_options.MaxBatchTokens} padded tokens, waiting at most {_options.MaxWaitMs} ms; " +
                       $"at most {_options.MaxInputs} inputs per request and {_options.MaxConcurrentRequests} requests at once");
        _log.WriteLine($"serve: request bodies of at most {_options.MaxRequestBytes} bytes, {_options.MaxBodyBytesInFlight} bytes held at once, arriving within " +
                       $"{_options.BodyTimeoutSeconds} s at {_options.MinBodyBytesPerSecond} bytes/s or more; at most {_options.MaxQueuedTokens} tokens queued");
        _log.WriteLine($"serve: listening on {Address} (POST /v1/embeddings, POST /embed, GET /health); Ctrl-C or SIGTERM stops");
        if (_options.ApiKey is not null) _log.WriteLine("serve: every endpoint but /health needs Authorization: Bearer <--api-key>");
        else if (!IPAddress.IsLoopback(model.ListenAddress))
            _log.WriteLine($"serve: warning: listening on {_options.Host}, beyond this machine, with no authentication: anyone who reaches port " +
                           $"{Address.Port} can use the model. Give --api-key KEY, or put an authenticating proxy in front.");
        if (_options.CorsOrigins.Count > 0) _log.WriteLine($"serve: browsers may call it from {string.Join(", ", _options.CorsOrigins)} (CORS)");
    }
}
