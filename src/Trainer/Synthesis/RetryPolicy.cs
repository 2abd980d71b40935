using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Trainer.Synthesis;

/// <summary>
/// The official OpenAI clients' retry rule: connection errors, time-outs and 408, 409, 429, 500, 502, 503, 504 are
/// retried up to <see cref="MaxAttempts"/> attempts in all; a server's <c>retry-after-ms</c> or <c>retry-after</c>
/// (seconds or an HTTP date) is honoured when it asks for 0–60 s, otherwise the wait is
/// <c>min(initial × 2^(attempt-1), max)</c> less up to a quarter at random (jitter).
/// </summary>
public sealed record RetryPolicy(int MaxAttempts = 5, double InitialDelaySeconds = 0.5, double MaxDelaySeconds = 8.0)
{
    public static bool IsRetryable(HttpStatusCode status) => (int)status is 408 or 409 or 429 or 500 or 502 or 503 or 504;

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1, after attempt <paramref name="attempt"/> (1-based) failed.</summary>
    public TimeSpan Delay(int attempt, HttpResponseHeaders? headers, Random random, DateTimeOffset now)
    {
        if (headers is not null && ServerDelay(headers, now) is { } asked && asked >= TimeSpan.Zero && asked <= TimeSpan.FromSeconds(60)) return asked;
        double seconds = Math.Min(InitialDelaySeconds * Math.Pow(2, attempt - 1), MaxDelaySeconds);
        return TimeSpan.FromSeconds(seconds * (1 - 0.25 * random.NextDouble()));
    }

    /// <summary>What <c>retry-after-ms</c> or <c>retry-after</c> asks for; null when neither is given or readable.</summary>
    public static TimeSpan? ServerDelay(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && double.IsFinite(milliseconds))
            return TimeSpan.FromMilliseconds(milliseconds);
        if (!headers.TryGetValues("retry-after", out var values) || values.FirstOrDefault() is not { } value) return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && double.IsFinite(seconds)) return TimeSpan.FromSeconds(seconds);
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)) return date - now;
        return null;
    }
}
