using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trainer.Synthesis;

/// <summary>
/// A line of DIR/requests.jsonl: one finished request (after its HTTP retries). <see cref="Kind"/> is
/// <c>brainstorm</c> or <c>generate</c>; <see cref="Slot"/> is the brainstorm's index within its group or the
/// generation's row slot; <see cref="Sample"/> counts the slot's answers that were dropped before it (each resample has
/// a new seed). <see cref="Status"/>: <c>kept</c>, <c>dropped</c> (<see cref="Cause"/> says why) or <c>failed</c>
/// (an HTTP failure, <see cref="Failure"/>).
/// </summary>
public sealed record RequestRecord(
    string Id,
    string Kind,
    string Group,
    int Slot,
    int Sample,
    string Template,
    string? Task,
    IReadOnlyDictionary<string, string> Placeholders,
    int Seed,
    string Status,
    string? Cause,
    int Attempts,
    IReadOnlyList<string> Errors,
    string? FinishReason,
    UsageRecord Usage,
    double LatencyMs,
    string? Answer,
    string? Failure);

/// <summary>The server's token counts for one request (0 when it gave none).</summary>
public sealed record UsageRecord(int PromptTokens, int CompletionTokens);

/// <summary>A line of DIR/tasks.jsonl: a brainstormed task and the brainstorm request it came from.</summary>
public sealed record TaskRecord(string Group, string Task, string Brainstorm);

/// <summary>
/// A line of DIR/train.jsonl, in the columns <c>trainer train</c> reads (query, positive, negative, instruction) plus
/// where it came from: group, language, task, template version and the request id.
/// </summary>
public sealed record SynthRow(string Query, string Positive, string? Negative, string Instruction, string Group, string Language, string Task, string Template, string Id);

/// <summary>The JSON settings of every synth file: snake_case names, nulls left out, no indentation (one record a line).</summary>
public static class SynthJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };
}
