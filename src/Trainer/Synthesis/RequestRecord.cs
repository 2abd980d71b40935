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
