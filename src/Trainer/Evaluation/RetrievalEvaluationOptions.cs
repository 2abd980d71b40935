namespace Trainer.Evaluation;

/// <summary>How <see cref="RetrievalEvaluator"/> embeds and searches a split.</summary>
public sealed record RetrievalEvaluationOptions
{
    /// <summary>The queries' task instruction (<see cref="Text.PromptFormat"/>); null or empty: queries as they are.</summary>
    public string? Instruction { get; init; }

    /// <summary>The documents' instruction (null = none, the default): e5 gives Quora's documents the queries' instruction.</summary>
    public string? DocumentInstruction { get; init; }

    /// <summary>Token budget per text, BOS and EOS included.</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Sequences per forward pass.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Documents kept per query (the run's depth); the measures at 100 need at least 100.</summary>
    public int TopK { get; init; } = 100;

    /// <summary>Embeddings cut to their first N components and L2-normalised again (a Matryoshka dim); null: the full size.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Evaluate only the first N queries of the split (in <c>queries.jsonl</c> order); null: all.</summary>
    public int? MaxQueries { get; init; }

    /// <summary>
    /// Documents embedded per round and handed to <see cref="ExactSearch"/>: what bounds the embeddings held at once.
    /// Rounded up to a multiple of <see cref="BatchSize"/>.
    /// </summary>
    public int ChunkDocuments { get; init; } = 1024;

    public void Validate()
    {
        if (MaxLength < 2) throw new ArgumentException($"--max-length = {MaxLength} is invalid; it must be at least 2 (BOS and EOS).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size = {BatchSize} is invalid; it must be at least 1.");
        if (TopK < 1) throw new ArgumentException($"--top-k = {TopK} is invalid; it must be at least 1.");
        if (MaxQueries is < 1) throw new ArgumentException($"--max-queries = {MaxQueries} is invalid; it must be at least 1.");
        if (ChunkDocuments < 1) throw new ArgumentException($"ChunkDocuments = {ChunkDocuments} is invalid; it must be at least 1.");
    }
}
