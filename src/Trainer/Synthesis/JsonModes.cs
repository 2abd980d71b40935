namespace Trainer.Synthesis;

/// <summary>The <c>--json-mode</c> names of <see cref="JsonMode"/>.</summary>
public static class JsonModes
{
    public static JsonMode Parse(string value) => value switch
    {
        "none" => JsonMode.None,
        "openai" => JsonMode.OpenAi,
        "schema" => JsonMode.Schema,
        "tgi" => JsonMode.Tgi,
        _ => throw new ArgumentException($"--json-mode: expected none, openai, schema or tgi, got \"{value}\"."),
    };

    public static string Name(JsonMode mode) => mode switch { JsonMode.OpenAi => "openai", JsonMode.Schema => "schema", JsonMode.Tgi => "tgi", _ => "none" };
}
