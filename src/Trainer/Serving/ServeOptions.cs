using System.Net;
using Trainer.Models;

namespace Trainer.Serving;

/// <summary>What <c>trainer serve</c> was asked for. Null settings fall back to the model's (<see cref="ServedModel"/>).</summary>
/// <param name="Model">An export folder (<c>embedding_config.json</c>), a Hugging Face model folder, a
/// <c>checkpoint-&lt;step&gt;</c> or an output_dir (its newest valid checkpoint).</param>
public sealed record ServeOptions(string Model)
{
    public static readonly string[] Engines = ["torch", "onnx"];

    /// <summary>The address to listen on: 127.0.0.1 (this machine only) by default, 0.0.0.0 for every interface.</summary>
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

    /// <summary>CPU threads of one model call (libtorch's intra-op threads, or ONNX Runtime's); null: the library's default.</summary>
    public int? Threads { get; init; }

    /// <summary>The model name in responses; null: the --model folder's name.</summary>
    public string? ModelName { get; init; }

    public void Validate()
    {
        if (!IPAddress.TryParse(Host, out _)) throw new ArgumentException($"--host = '{Host}' is invalid; expected an IP address such as 127.0.0.1 or 0.0.0.0.");
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
        if (Threads is < 1) throw new ArgumentException($"--threads = {Threads} is invalid; it must be at least 1 (leave it out for the library's default).");
        if (Instruction is { Length: > 0 } && string.IsNullOrWhiteSpace(Instruction))
            throw new ArgumentException("--instruction is whitespace only; leave it out for the model's default, or give \"\" for none.");
    }
}
