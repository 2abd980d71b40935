using System.CommandLine;
using Trainer.Serving;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer serve --model EXPORT_OR_CHECKPOINT [--port 8080] [--device cpu|cuda] [--engine torch|onnx] ...</c>: an HTTP
/// embedding server (OpenAI <c>/v1/embeddings</c>, text-embeddings-inference <c>/embed</c>, <c>/health</c>) until SIGTERM or Ctrl-C.
/// </summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var defaults = new ServeOptions("");
        var model = new Option<string>("--model")
        {
            Required = true,
            Description = "A trainer export (embedding_config.json; model.onnx and/or safetensors), a model folder, a checkpoint-<step>, or an output_dir (its newest valid checkpoint)",
        };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => defaults.Host, Description = "Address to listen on (0.0.0.0: every interface)" };
        var port = new Option<int>("--port") { DefaultValueFactory = _ => defaults.Port, Description = "Port to listen on (0: a free one, printed at start)" };
        var engine = new Option<string>("--engine") { DefaultValueFactory = _ => defaults.Engine, Description = "torch (TorchSharp, cpu or cuda) or onnx (the export's model.onnx in ONNX Runtime, cpu)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => defaults.Device, Description = "cpu, cuda or cuda:N (torch engine)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => defaults.DType, Description = "float32, float16 or bfloat16 (torch engine)" };
        var maxInputTokens = new Option<int?>("--max-input-tokens", "--max-length")
        {
            Description = "Tokens per input, BOS and EOS included (default: the export's or checkpoint's max_length, else 512)",
        };
        var truncate = new Option<bool>("--truncate") { DefaultValueFactory = _ => defaults.Truncate, Description = "true (default): cut longer inputs, as trainer embed does; false: refuse them with 413 (a request's \"truncate\" overrides it)" };
        var instruction = new Option<string?>("--instruction") { Description = "Default instruction of queries (default: the export's or checkpoint's; \"\" for none)" };
        var maxInputs = new Option<int>("--max-inputs") { DefaultValueFactory = _ => defaults.MaxInputs, Description = "Inputs per request" };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { DefaultValueFactory = _ => defaults.MaxBatchTokens, Description = "Padded tokens per model call (inputs × the longest)" };
        var maxWaitMs = new Option<int>("--max-wait-ms") { DefaultValueFactory = _ => defaults.MaxWaitMs, Description = "How long a batch waits for more inputs before it runs" };
        var maxConcurrent = new Option<int>("--max-concurrent-requests") { DefaultValueFactory = _ => defaults.MaxConcurrentRequests, Description = "Requests handled at once; more are answered 429" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads per model call (libtorch or ONNX Runtime; default: the library's)" };
        var maxRequestBytes = new Option<int>("--max-request-bytes") { DefaultValueFactory = _ => defaults.MaxRequestBytes, Description = "Bytes of one request body; more: 413" };
        var maxBodyBytes = new Option<long>("--max-body-bytes-in-flight") { DefaultValueFactory = _ => defaults.MaxBodyBytesInFlight, Description = "Request-body bytes held at once, over all requests; more: 429" };
        var maxQueuedTokens = new Option<int>("--max-queued-tokens") { DefaultValueFactory = _ => defaults.MaxQueuedTokens, Description = "Tokens queued for the model at once; more: 429 (413 for a request that never fits)" };
        var bodyTimeout = new Option<int>("--body-timeout-seconds") { DefaultValueFactory = _ => defaults.BodyTimeoutSeconds, Description = "Time a request body may take to arrive; longer: 408" };
        var minBodyRate = new Option<int>("--min-body-bytes-per-second") { DefaultValueFactory = _ => defaults.MinBodyBytesPerSecond, Description = "Slowest a body may arrive after a 5 s grace (0: no check); slower: 408" };
        var apiKey = new Option<string?>("--api-key") { Description = "Require Authorization: Bearer KEY on every endpoint but /health (default: $TRAINER_API_KEY, else none)" };
        var cors = new Option<string[]>("--cors-origin") { Description = "Origin browsers may call from (CORS), e.g. http://localhost:5173, or *; repeat or comma-separate", AllowMultipleArgumentsPerToken = true };
        var name = new Option<string?>("--model-name") { Description = "The model name in responses (default: the --model folder's name)" };
        var command = new Command("serve", "Serve embeddings over HTTP: OpenAI POST /v1/embeddings, text-embeddings-inference POST /embed, GET /health.")
        {
            model, host, port, engine, device, dtype, maxInputTokens, truncate, instruction, maxInputs, maxBatchTokens, maxWaitMs, maxConcurrent, threads, name,
            maxRequestBytes, maxBodyBytes, maxQueuedTokens, bodyTimeout, minBodyRate, apiKey, cors,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var options = new ServeOptions(r.GetValue(model)!)
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                Engine = r.GetValue(engine)!,
                Device = r.GetValue(device)!,
                DType = r.GetValue(dtype)!,
                MaxInputTokens = r.GetValue(maxInputTokens),
                Truncate = r.GetValue(truncate),
                Instruction = r.GetValue(instruction),
                MaxInputs = r.GetValue(maxInputs),
                MaxBatchTokens = r.GetValue(maxBatchTokens),
                MaxWaitMs = r.GetValue(maxWaitMs),
                MaxConcurrentRequests = r.GetValue(maxConcurrent),
                Threads = r.GetValue(threads),
                ModelName = r.GetValue(name),
                MaxRequestBytes = r.GetValue(maxRequestBytes),
                MaxBodyBytesInFlight = r.GetValue(maxBodyBytes),
                MaxQueuedTokens = r.GetValue(maxQueuedTokens),
                BodyTimeoutSeconds = r.GetValue(bodyTimeout),
                MinBodyBytesPerSecond = r.GetValue(minBodyRate),
                ApiKey = r.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable("TRAINER_API_KEY") is { Length: > 0 } key ? key : null), // the variable keeps it out of ps
                CorsOrigins = (r.GetValue(cors) ?? []).SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            };
            var server = EmbeddingServer.StartAsync(options, Console.Error).GetAwaiter().GetResult();
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
