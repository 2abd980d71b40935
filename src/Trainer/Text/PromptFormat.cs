namespace Trainer.Text;

/// <summary>The e5-mistral prompt: queries carry a one-line task instruction, documents are embedded as they are.</summary>
public static class PromptFormat
{
    private const string InstructionPrefix = "Instruct: ";
    private const string QuerySeparator = "\nQuery: ";

    /// <summary>The query template as serving configs spell it (<c>embedding_config.json</c>).</summary>
    public const string QueryTemplate = InstructionPrefix + "{instruction}" + QuerySeparator + "{text}";

    /// <summary>With an instruction: <see cref="QueryTemplate"/> filled in; without (null or empty): the text.</summary>
    public static string Format(string text, string? instruction) =>
        string.IsNullOrEmpty(instruction) ? text : InstructionPrefix + instruction + QuerySeparator + text;
}
