using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Trainer.Serving;

/// <summary>
/// The request line and header limits, checked by the server so that a refusal carries the JSON error body (Kestrel's
/// own 414 and 431 have empty bodies): Kestrel's limits are raised to <see cref="KestrelRequestLine"/> and
/// <see cref="KestrelHeaders"/>, and anything past <see cref="RequestLine"/> or <see cref="Headers"/> (Kestrel's usual
/// 8 KB and 32 KB) is answered 414 or 431 here. Past Kestrel's raised limits it still answers itself, without a body.
/// </summary>
public static class HeaderLimits
{
    public const int RequestLine = 8 << 10;
    public const int Headers = 32 << 10;
    public const int KestrelRequestLine = 64 << 10;
    public const int KestrelHeaders = 256 << 10;

    /// <summary>The refusal for this request, or null when it is within the limits.</summary>
    public static ApiError? Check(HttpContext context)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path + request.QueryString;
        int line = request.Method.Length + target.Length + request.Protocol.Length + 4; // "METHOD TARGET PROTOCOL\r\n"
        if (line > RequestLine)
            return new ApiError(414, "uri_too_long", $"The request line has {line} bytes; the limit is {RequestLine}. Send the data in a POST body.");
        long headers = request.Headers.Sum(h => h.Key.Length + h.Value.ToString().Length + 4L); // "Name: value\r\n"
        if (headers > Headers)
            return new ApiError(431, "headers_too_large", $"The request headers have {headers} bytes; the limit is {Headers}.");
        return null;
    }
}
