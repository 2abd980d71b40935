namespace Trainer.Synthesis;

/// <summary>
/// How JSON output is asked of the server: not at all (the prompt alone asks for it), OpenAI's
/// <c>response_format: {"type": "json_object"}</c> (OpenAI, Azure, vLLM, llama.cpp, Ollama), or TGI's grammar dialect
/// <c>response_format: {"type": "json_object", "value": SCHEMA}</c> with the group's keys required.
/// </summary>
public enum JsonMode
{
    None,
    OpenAi,
    Tgi,
}
