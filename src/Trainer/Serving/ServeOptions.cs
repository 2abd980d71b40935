using System.Net;
using Trainer.Models;

namespace Trainer.Serving;

/// <summary>What <c>trainer serve</c> was asked for. Null settings fall back to the model's (<see cref="ServedModel"/>).</summary>
/// <param name="Model">An export folder (<c>embedding_config.json</c>), a Hugging Face model folder, a
/// <c>checkpoint-&lt;step&gt;</c> or an output_dir (its newest valid checkpoint).</param>
public sealed record ServeOptions(string Model)
{
    public static readonly string[] Engines = ["torch", "onnx"];

    /// <summary>The address to listen on: 127.0.0.1 (this machine only) by default, 0.0.0.0 for every interface; a host name
    /// (localhost, or one that resolves) listens on its first address (IPv4 first).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (the tests' way); the address actually bound is <see cref="EmbeddingServer.Address"/>.</summary>
    public int Port { get; init; } = 8080;

    public string Engine { get; init; } = "torch";

    public string Device { get; init; } = "cpu";

    /// <summary>The torch engine's weight dtype; the ONNX engine runs the export's own.</summary>
    public string DType { get; init; } = "float32";

    /// <summary>Tokens per input, BOS and EOS included (<c>trainer embed --max-length</c>); null: the model's max_length, else 512.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>What happens to a longer input: cut to <see cref="MaxInputTokens"/> (as <c>trainer embed</c> does), or refused with 413.
    /// The <c>/embed</c> request's <c>truncate</c> overrides it.</summary>
    public bool Truncate { get; init; } = true;

    /// <summary>The default instruction of queries; null: the model's <c>default_instruction</c>; "": none.</summary>
    public string? Instruction { get; init; }

    /// <summary>Inputs per request.</summary>
    public int MaxInputs { get; init; } = 512;

    /// <summary>A batch holds at most this many padded tokens (inputs × the longest one).</summary>
    public int MaxBatchTokens { get; init; } = 16384;

    /// <summary>How long the first input of a batch waits for others to join it (the batch leaves earlier when full).</summary>
    public int MaxWaitMs { get; init; } = 2;

    /// <summary>Requests being handled at once; one more is answered 429 at once rather than queued.</summary>
    public int MaxConcurrentRequests { get; init; } = 512;

    /// <summary>Bytes of one request body; a longer one is refused with 413 (text-embeddings-inference's payload limit is 2 MB).</summary>
    public int MaxRequestBytes { get; init; } = 16 << 20;

    /// <summary>Request-body bytes held at once, over all requests (each holds its body until answered); past it, 429 at once.
    /// The memory a request takes while it is parsed and tokenized is a small multiple of its body (docs/serving.md).</summary>
    public long MaxBodyBytesInFlight { get; init; } = 64L << 20;

    /// <summary>Tokens queued for the model at once (the queue's depth in tokens); a request that would pass it gets 429 at
    /// once, one that could never fit 413.</summary>
    public int MaxQueuedTokens { get; init; } = 32 * 16384;

    /// <summary>How long a request body may take to arrive, in all; then 408.</summary>
    public int BodyTimeoutSeconds { get; init; } = 30;

    /// <summary>The slowest a body may arrive, after a 5 s grace (Kestrel's minimum request body data rate); slower: 408 and
    /// the connection is closed. 0 switches the check off.</summary>
    public int MinBodyBytesPerSecond { get; init; } = 1024;

    /// <summary>CPU threads of one model call (libtorch's intra-op threads, or ONNX Runtime's); null: the library's default.</summary>
    public int? Threads { get; init; }

    /// <summary>A token clients must send as <c>Authorization: Bearer TOKEN</c> (as with text-embeddings-inference and vLLM);
    /// null: none. <c>GET /health</c> stays open, for load balancers and probes.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Origins browsers may call the API from (CORS), e.g. http://localhost:5173, or * for any; empty: none.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>The model name in responses; null: the --model folder's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>The IP address <see cref="Host"/> names. A host name is looked up each call: <see cref="ServedModel.Resolve"/>
    /// calls it once, and the server binds that address and warns by it.</summary>
    public IPAddress ListenAddress()
    {
        if (IPAddress.TryParse(Host, out var address)) return address;
        if (string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(Host);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ArgumentException($"--host = '{Host}' does not resolve ({e.Message}); give an IP address such as 127.0.0.1 or 0.0.0.0, or a host name of this machine.");
        }
        return addresses.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
               ?? throw new ArgumentException($"--host = '{Host}' resolves to no address; give an IP address such as 127.0.0.1 or 0.0.0.0.");
    }

    /// <summary>Checks every option but <see cref="Host"/>, which <see cref="ListenAddress"/> checks as it resolves it.</summary>
    public void Validate()
    {
        if (ApiKey is { } key && (key.Length == 0 || key.Any(char.IsWhiteSpace)))
            throw new ArgumentException("--api-key is empty or has whitespace; give a token of visible characters, or leave it out for none.");
        foreach (var origin in CorsOrigins)
            if (origin != "*" && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/"))
                throw new ArgumentException($"--cors-origin '{origin}' is invalid; expected an origin such as http://localhost:5173 (scheme, host and port, no path), or *.");
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port = {Port} is invalid; expected 1 to 65535 (0 picks a free port).");
        if (!Engines.Contains(Engine)) throw new ArgumentException($"--engine = '{Engine}' is invalid; allowed: {string.Join(", ", Engines)}.");
        DTypes.Parse(DType, "--dtype");
        DTypes.ParseDevice(Device, "--device");
        if (Engine == "onnx" && Device != "cpu")
            throw new ArgumentException($"--device = '{Device}' is not available with --engine onnx, which runs on the CPU; use --engine torch for CUDA.");
        if (Engine == "onnx" && DType != "float32")
            throw new ArgumentException($"--dtype = '{DType}' does not apply to --engine onnx, which runs the export's own weights; leave --dtype out.");
        if (MaxInputTokens is < 2) throw new ArgumentException($"--max-input-tokens = {MaxInputTokens} is invalid; it must be at least 2 (BOS and EOS).");
        if (MaxInputs < 1) throw new ArgumentException($"--max-inputs = {MaxInputs} is invalid; it must be at least 1.");
        if (MaxBatchTokens < 2) throw new ArgumentException($"--max-batch-tokens = {MaxBatchTokens} is invalid; it must be at least 2.");
        if (MaxWaitMs < 0) throw new ArgumentException($"--max-wait-ms = {MaxWaitMs} is invalid; it must be 0 or more.");
        if (MaxConcurrentRequests < 1) throw new ArgumentException($"--max-concurrent-requests = {MaxConcurrentRequests} is invalid; it must be at least 1.");
        if (MaxRequestBytes < 1) throw new ArgumentException($"--max-request-bytes = {MaxRequestBytes} is invalid; it must be at least 1.");
        if (MaxBodyBytesInFlight < MaxRequestBytes)
            throw new ArgumentException($"--max-body-bytes-in-flight = {MaxBodyBytesInFlight} is less than --max-request-bytes = {MaxRequestBytes}; " +
                                        "it must hold at least one request of the largest size.");
        if (MaxQueuedTokens < MaxBatchTokens)
            throw new ArgumentException($"--max-queued-tokens = {MaxQueuedTokens} is less than --max-batch-tokens = {MaxBatchTokens}; " +
                                        "the queue must hold at least one full batch.");
        if (BodyTimeoutSeconds < 1) throw new ArgumentException($"--body-timeout-seconds = {BodyTimeoutSeconds} is invalid; it must be at least 1.");
        if (MinBodyBytesPerSecond < 0)
            throw new ArgumentException($"--min-body-bytes-per-second = {MinBodyBytesPerSecond} is invalid; it must be 0 (no check) or more.");
        if (Threads is < 1) throw new ArgumentException($"--threads = {Threads} is invalid; it must be at least 1 (leave it out for the library's default).");
        if (Instruction is { Length: > 0 } && string.IsNullOrWhiteSpace(Instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out for the model's default, or give \"\" for none.");
    }
}
