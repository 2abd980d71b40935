namespace Trainer.Text;

/// <summary>The e5-mistral prompt (<see cref="QueryTemplate.E5"/>): queries carry a one-line task instruction, documents are embedded as they are.</summary>
public static class PromptFormat
{
    /// <summary>With an instruction: e5's template filled in; without (null or empty): the text.</summary>
    public static string Format(string text, string? instruction) => QueryTemplate.E5.Format(text, instruction);
}
