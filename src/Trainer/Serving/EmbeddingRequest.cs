namespace Trainer.Serving;

/// <summary>
/// One request of either endpoint, checked and reduced to what the model needs.
/// </summary>
/// <param name="Field">The request field that held the texts (<c>input</c> or <c>inputs</c>), for error messages.</param>
/// <param name="IsQuery">Queries are formatted with an instruction (<see cref="Instruction"/>, else the server's default);
/// documents are embedded as they are.</param>
/// <param name="Instruction">The request's own instruction for its queries, or null.</param>
/// <param name="Truncate">Cut inputs longer than the limit (true) or refuse them (false); null: the server's setting.</param>
/// <param name="Base64">OpenAI's <c>encoding_format: "base64"</c>: each vector as the base64 of its little-endian float32 bytes.</param>
/// <param name="Dimensions">The vector length asked for, or null.</param>
public sealed record EmbeddingRequest(string Field, IReadOnlyList<string> Texts, bool IsQuery, string? Instruction, bool? Truncate,
    bool Base64 = false, int? Dimensions = null);
