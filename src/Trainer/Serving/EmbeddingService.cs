using Trainer.Text;

namespace Trainer.Serving;

/// <summary>
/// The core between the HTTP endpoints and the model: applies the per-request limits, tokenizes on the caller's thread
/// (off the model's) exactly as <c>trainer embed</c> does (<see cref="EmbeddingTokenizer"/>: queries formatted with
/// their instruction, BOS … EOS, at most <see cref="ServedModel.MaxInputTokens"/> tokens), and hands the rows to the
/// <see cref="EmbeddingBatcher"/>.
/// </summary>
public sealed class EmbeddingService(ServedModel model, EmbeddingTokenizer tokenizer, EmbeddingBatcher batcher, int dimensions, ServeOptions options)
{
    public ServedModel Model { get; } = model;

    /// <summary>The full vector length (the model's hidden size).</summary>
    public int Dimensions { get; } = dimensions;

    /// <summary>The lengths a request may ask for: the full one and the trained Matryoshka dims.</summary>
    public Inference.EmbeddingDimensions Allowed { get; } = new(dimensions, model.MatryoshkaDims);

    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken)
    {
        if (request.Texts.Count > options.MaxInputs)
            throw new ApiError(413, "too_many_inputs", $"{request.Field} has {request.Texts.Count} inputs; the limit is {options.MaxInputs} per request " +
                                                       "(--max-inputs). Split it into smaller requests.", request.Field);
        if (request.Dimensions is { } wanted && Allowed.Problem(wanted) is { } problem)
            throw ApiError.BadRequest("unsupported_value", problem + " Leave dimensions out for the full size.", "dimensions");
        var instruction = request.IsQuery ? request.Instruction ?? Model.Instruction : null;
        bool truncate = request.Truncate ?? options.Truncate;
        var rows = new int[request.Texts.Count][];
        for (int i = 0; i < rows.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested(); // a client gone before its inputs are tokenized costs no more work
            rows[i] = Tokenize(request.Texts[i], instruction, truncate, request.Texts.Count == 1 ? request.Field : $"{request.Field}[{i}]");
        }
        long tokens = rows.Sum(r => (long)r.Length);
        if (tokens > options.MaxQueuedTokens)
            throw new ApiError(413, "too_many_tokens", $"{request.Field} has {tokens} tokens, more than the server ever queues at once " +
                                                       $"({options.MaxQueuedTokens}, --max-queued-tokens). Split it into smaller requests.", request.Field);
        Task<float[][]> vectors;
        try
        {
            vectors = batcher.EmbedAsync(rows, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new ApiError(503, "shutting_down", e.Message);
        }
        catch (QueueFullException e)
        {
            throw new ApiError(429, "queue_full", $"The server's queue holds {e.Queued} tokens and this request has {e.Tokens}, over the limit of " +
                                                  $"{e.Limit} (--max-queued-tokens); retry later.");
        }
        return new EmbeddingResult(Inference.EmbeddingDimensions.Truncate(await vectors, request.Dimensions), rows.Sum(r => r.Length));
    }

    /// <summary>The ids of one input; a longer one is cut to the limit, or refused when not truncating.</summary>
    private int[] Tokenize(string text, string? instruction, bool truncate, string param)
    {
        int limit = Model.MaxInputTokens;
        if (truncate) return tokenizer.Encode(text, instruction, limit);
        var ids = tokenizer.Encode(text, instruction, limit + 1); // one more than allowed tells whether it was cut
        if (ids.Length > limit)
            throw new ApiError(413, "input_too_long", $"{param} is longer than {limit} tokens (BOS, EOS and any query instruction included), the limit " +
                                                      $"(--max-input-tokens, {Model.MaxInputTokensFrom}). Shorten it, or send truncate: true to cut it.", param);
        return ids;
    }
}
