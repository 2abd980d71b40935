namespace Trainer.Text;

/// <summary>The e5-mistral prompt: queries carry a one-line task instruction, documents are embedded as they are.</summary>
public static class PromptFormat
{
    public const string QueryTemplate = "Instruct: {instruction}\nQuery: {text}";

    /// <summary>With an instruction: <c>Instruct: {instruction}\nQuery: {text}</c>; without (null or empty): the text.</summary>
    public static string Format(string text, string? instruction) =>
        string.IsNullOrEmpty(instruction) ? text : $"Instruct: {instruction}\nQuery: {text}";
}
