namespace Trainer.Evaluation.Mteb;

/// <summary>
/// What an evaluation embeds and how it scores: the task's name (as MTEB spells it, written into the result file), its
/// type, and the instruction put before the texts (null: none). As e5-mistral evaluates
/// (<see cref="E5TaskTable"/>): retrieval instructs the queries only, except Quora, whose documents are questions too
/// and get the instruction as well; every other type instructs every input; classification alone keeps the embeddings
/// unnormalised (e5's <c>l2_normalize = False</c>, "slightly better results").
/// </summary>
public sealed record MtebTask(string Name, MtebTaskType Type, string? Instruction)
{
    /// <summary>Whether the documents of a retrieval task get the instruction too (e5: Quora's).</summary>
    public bool InstructDocuments { get; init; }

    /// <summary>Whether embeddings are L2-normalised before scoring: all but classification.</summary>
    public bool Normalize => Type != MtebTaskType.Classification;

    /// <summary>How a retrieval task embeds: the instruction on the queries, and on the documents when <see cref="InstructDocuments"/>.</summary>
    public RetrievalEvaluationOptions RetrievalOptions(int maxLength, int batchSize, int topK, int? maxQueries) => new()
    {
        Instruction = Instruction,
        DocumentInstruction = InstructDocuments ? Instruction : null,
        MaxLength = maxLength,
        BatchSize = batchSize,
        TopK = topK,
        MaxQueries = maxQueries,
    };

    /// <summary>
    /// The task of <paramref name="name"/> from the built-in table, with <paramref name="type"/> and
    /// <paramref name="instruction"/> overriding it when given ("" = no instruction). A name the table does not hold
    /// needs <paramref name="type"/> (a user's own data); then its instruction is <paramref name="instruction"/>, or
    /// e5's instruction for the type when e5 has one per type (STS, Summarization, BitextMining), else none.
    /// </summary>
    public static MtebTask Resolve(string? name, MtebTaskType? type, string? instruction)
    {
        MtebTask task;
        if (name is not null && E5TaskTable.Find(name) is { } known)
            task = type is { } t && t != known.Type ? known with { Type = t } : known;
        else if (type is { } given)
            task = new MtebTask(name ?? MtebTaskTypes.Name(given), given, E5TaskTable.TypeInstruction(given));
        else if (name is not null)
            throw new ArgumentException($"--task {name} is not in the built-in e5 table ({E5TaskTable.Count} MTEB tasks, e.g. STSBenchmark, Banking77Classification, " +
                                        $"SciFact); for your own data give --task-type ({string.Join(", ", MtebTaskTypes.All.Select(MtebTaskTypes.Name))}) and --instruction.");
        else
            throw new ArgumentException("give --task NAME (an MTEB task) or --task-type TYPE.");
        if (instruction is not null) task = task with { Instruction = instruction.Length == 0 ? null : instruction };
        return task;
    }
}
