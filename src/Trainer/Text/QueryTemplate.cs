namespace Trainer.Text;

/// <summary>
/// How a query is written before it is tokenized (<c>data.query_template</c>): the instruction and the query put into a
/// template holding <c>{instruction}</c> once and ending with <c>{query}</c>. e5's is the default,
/// <c>Instruct: {instruction}\nQuery: {query}</c>; Qwen3-Embedding's has no space after "Query:". The query comes last
/// because sentence-transformers and text-embeddings-inference put a prompt before the text: the export's prompt is
/// <see cref="Prompt"/>. A query without an instruction, and every document, is embedded as it is. Serving configs
/// (<c>embedding_config.json</c>) spell the query <c>{text}</c> (<see cref="ServingSpelling"/>).
/// </summary>
public sealed record QueryTemplate
{
    public const string InstructionSlot = "{instruction}", QuerySlot = "{query}", ServingQuerySlot = "{text}";

    public static QueryTemplate E5 { get; } = new("Instruct: {instruction}\nQuery: {query}");

    /// <exception cref="ArgumentException">The template does not hold {instruction} exactly once and end with its only {query}.</exception>
    public QueryTemplate(string template)
    {
        static int Count(string text, string slot) => (text.Length - text.Replace(slot, "", StringComparison.Ordinal).Length) / slot.Length;
        if (Count(template, InstructionSlot) != 1 || Count(template, QuerySlot) != 1 || !template.EndsWith(QuerySlot, StringComparison.Ordinal))
            throw new ArgumentException($"the query template {System.Text.Json.JsonSerializer.Serialize(template)} must hold {InstructionSlot} once and end with " +
                                        $"{QuerySlot} (sentence-transformers and TEI put the query after a prompt), e.g. \"Instruct: {{instruction}}\\nQuery: {{query}}\".");
        Template = template;
    }

    public string Template { get; }

    /// <summary>The template as <c>embedding_config.json</c> writes it: the query as <c>{text}</c>.</summary>
    public string ServingSpelling => Template.Replace(QuerySlot, ServingQuerySlot, StringComparison.Ordinal);

    /// <summary>Reads <see cref="ServingSpelling"/>.</summary>
    public static QueryTemplate FromServingSpelling(string template) => new(template.Replace(ServingQuerySlot, QuerySlot, StringComparison.Ordinal));

    /// <summary>What comes before the query: the template up to {query} with the instruction filled in; "" without one.</summary>
    public string Prompt(string? instruction) =>
        string.IsNullOrEmpty(instruction) ? "" : Template[..^QuerySlot.Length].Replace(InstructionSlot, instruction, StringComparison.Ordinal);

    /// <summary>With an instruction (not null or empty): the prompt, then the text; without: the text.</summary>
    public string Format(string text, string? instruction) => Prompt(instruction) + text;
}
