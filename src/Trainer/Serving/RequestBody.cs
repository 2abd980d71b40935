using Microsoft.AspNetCore.Http;

namespace Trainer.Serving;

/// <summary>
/// A request's body, read whole before the request takes a concurrency slot, with its bytes held against the server's
/// <see cref="ByteBudget"/> until disposed. Reading is bounded three ways: at most <c>--max-request-bytes</c> (413), no
/// longer than <c>--body-timeout-seconds</c> in all (408), and no slower than Kestrel's minimum data rate
/// (<c>--min-body-bytes-per-second</c>, 408 from Kestrel). Over the budget it answers 429 before reading anything
/// (with a Content-Length) or as soon as the body outgrows what is left (chunked).
/// </summary>
public sealed class RequestBody : IDisposable
{
    private const int ChunkedStart = 16 << 10;

    private readonly ByteBudget _budget;
    private long _taken;

    private RequestBody(ByteBudget budget) => _budget = budget;

    public ReadOnlyMemory<byte> Bytes { get; private set; }

    public static async Task<RequestBody> ReadAsync(HttpRequest request, ByteBudget budget, ServeOptions options, CancellationToken aborted)
    {
        var body = new RequestBody(budget);
        try
        {
            if (request.ContentLength is { } announced)
            {
                if (announced > options.MaxRequestBytes) throw TooLarge(announced, options);
                body.Take(announced);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.BodyTimeoutSeconds));
            try
            {
                body.Bytes = await body.Fill(request.Body, request.ContentLength, options, timeout.Token);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                throw new ApiError(408, "body_timeout", $"The request body did not arrive within {options.BodyTimeoutSeconds} s (--body-timeout-seconds); " +
                                                        "send it faster or in smaller requests.");
            }
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _budget.Return(_taken);
        _taken = 0;
        Bytes = default;
    }

    private async Task<ReadOnlyMemory<byte>> Fill(Stream stream, long? announced, ServeOptions options, CancellationToken cancellationToken)
    {
        var buffer = new byte[announced ?? ChunkedStart];
        if (announced is null) Take(buffer.Length);
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (announced is not null) return buffer; // Kestrel stops at the announced length and reports a short body itself
                if (length > options.MaxRequestBytes) throw TooLarge(length, options);
                int grown = (int)Math.Min(2L * buffer.Length, options.MaxRequestBytes + 1L);
                Take(grown - buffer.Length);
                Array.Resize(ref buffer, grown);
            }
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) return buffer.AsMemory(0, length);
            length += read;
        }
    }

    private void Take(long bytes)
    {
        if (!_budget.TryTake(bytes))
            throw new ApiError(429, "too_many_bytes_in_flight", $"The server holds {_budget.Held} bytes of request bodies already and this request needs " +
                                                                $"{bytes} more, over the limit of {_budget.Limit} (--max-body-bytes-in-flight); retry later.");
        _taken += bytes;
    }

    private static ApiError TooLarge(long bytes, ServeOptions options) =>
        new(413, "body_too_large", $"The request body has {bytes} bytes or more; the limit is {options.MaxRequestBytes} (--max-request-bytes). " +
                                   "Split it into smaller requests.");
}
