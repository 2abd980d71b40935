using System.Net;
using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class RetryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static System.Net.Http.Headers.HttpResponseHeaders Headers(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage();
        foreach (var (name, value) in headers) response.Headers.TryAddWithoutValidation(name, value);
        return response.Headers;
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(409, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(422, false)]
    [InlineData(501, false)]
    public void Only_the_transient_statuses_are_retried(int status, bool retried) => Assert.Equal(retried, RetryPolicy.IsRetryable((HttpStatusCode)status));

    [Fact]
    public void Retry_after_ms_wins_over_retry_after_then_seconds_then_an_http_date()
    {
        var policy = new RetryPolicy();
        Assert.Equal(TimeSpan.FromMilliseconds(1500), policy.Delay(1, Headers(("retry-after-ms", "1500"), ("retry-after", "9")), new Random(0), Now));
        Assert.Equal(TimeSpan.FromSeconds(9), policy.Delay(1, Headers(("retry-after", "9")), new Random(0), Now));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.Delay(1, Headers(("retry-after", Now.AddSeconds(30).ToString("r"))), new Random(0), Now));
    }

    [Fact]
    public void Without_a_usable_header_the_wait_doubles_up_to_the_cap_less_up_to_a_quarter_of_jitter()
    {
        var policy = new RetryPolicy(MaxAttempts: 10, InitialDelaySeconds: 0.5, MaxDelaySeconds: 8);
        var random = new Random(5);
        foreach (var (attempt, full) in new[] { (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (8, 8.0) })
        {
            for (int i = 0; i < 50; i++)
                Assert.InRange(policy.Delay(attempt, Headers(), random, Now).TotalSeconds, full * 0.75, full);
        }
        // a server asking for more than a minute is not obeyed
        Assert.InRange(policy.Delay(1, Headers(("retry-after", "3600")), random, Now).TotalSeconds, 0.375, 0.5);
    }
}
