namespace Trainer.Synthesis;

/// <summary>
/// Optional requests-per-minute and tokens-per-minute buckets, as in the OpenAI cookbook's parallel processor: each
/// bucket holds at most a minute's allowance and refills continuously; a request waits until both hold its cost
/// (one request; its prompt's estimated tokens plus its max_tokens), then takes it.
/// </summary>
public sealed class RateLimiter(double? requestsPerMinute, double? tokensPerMinute, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private double _requests = requestsPerMinute ?? 0, _tokens = tokensPerMinute ?? 0;
    private long _last = (time ?? TimeProvider.System).GetTimestamp();

    /// <summary>Rough token count of a prompt: a token per 4 characters, as the cookbook estimates.</summary>
    public static int EstimateTokens(string prompt) => prompt.Length / 4 + 1;

    public async Task WaitAsync(int tokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                Refill();
                // a request larger than a minute's tokens would never fit: it goes when the bucket is full
                double tokenCost = tokensPerMinute is { } tpm ? Math.Min(tokens, tpm) : 0;
                bool requestOk = requestsPerMinute is null || _requests >= 1;
                bool tokensOk = tokensPerMinute is null || _tokens >= tokenCost;
                if (requestOk && tokensOk)
                {
                    if (requestsPerMinute is not null) _requests -= 1;
                    if (tokensPerMinute is not null) _tokens -= tokenCost;
                    return;
                }
                double seconds = 0;
                if (!requestOk) seconds = Math.Max(seconds, (1 - _requests) / requestsPerMinute!.Value * 60);
                if (!tokensOk) seconds = Math.Max(seconds, (tokenCost - _tokens) / tokensPerMinute!.Value * 60);
                wait = TimeSpan.FromSeconds(Math.Max(seconds, 0.001));
            }
            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double minutes = _time.GetElapsedTime(_last, now).TotalMinutes;
        _last = now;
        if (requestsPerMinute is { } rpm) _requests = Math.Min(rpm, _requests + rpm * minutes);
        if (tokensPerMinute is { } tpm) _tokens = Math.Min(tpm, _tokens + tpm * minutes);
    }
}
