namespace Trainer.Benchmarks;

/// <summary>
/// One scripted reply of <see cref="FakeChatServer"/>: a chat completion whose message is <see cref="Content"/> (with
/// <see cref="FinishReason"/>), or an error <see cref="Status"/> with a body, after <see cref="Delay"/>; or, with
/// <see cref="Reset"/>, the connection dropped without a response. Null content: the server's own valid answer.
/// </summary>
public sealed record FakeReply(int Status = 200, string? Content = null, string FinishReason = "stop", string? Body = null, TimeSpan Delay = default,
    bool Reset = false, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static FakeReply Answer(string content, string finishReason = "stop") => new(Content: content, FinishReason: finishReason);

    /// <summary>The server's own valid answer for the request.</summary>
    public static FakeReply Valid() => new();

    public static FakeReply Error(int status, string message = "scripted error", IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, Body: System.Text.Json.JsonSerializer.Serialize(new { error = new { message, type = "scripted" } }), Headers: headers);

    public static FakeReply Slow(TimeSpan delay) => new(Delay: delay);

    public static FakeReply ConnectionReset() => new(Reset: true);
}
