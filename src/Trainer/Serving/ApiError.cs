namespace Trainer.Serving;

/// <summary>
/// A request the server refuses, answered as <c>{"error": {"message", "type", "code", "param"}}</c> (the OpenAI shape) with
/// <see cref="Status"/>. The message says what was wrong and what is allowed.
/// </summary>
public sealed class ApiError(int status, string code, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>A stable, machine-readable reason: <c>invalid_json</c>, <c>empty_input</c>, <c>too_many_inputs</c>, ...</summary>
    public string Code { get; } = code;

    /// <summary>The request field at fault (<c>input</c>, <c>input[3]</c>), or null.</summary>
    public string? Param { get; } = param;

    /// <summary>OpenAI's error type for the status: invalid_request_error (4xx), rate_limit_error (429), server_error (5xx).</summary>
    public string Type => Status switch
    {
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static ApiError BadRequest(string code, string message, string? param = null) => new(400, code, message, param);
}
