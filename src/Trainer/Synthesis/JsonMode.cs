namespace Trainer.Synthesis;

/// <summary>
/// How JSON output is asked of the server: not at all (the prompt alone asks for it); OpenAI's JSON mode
/// <c>response_format: {"type": "json_object"}</c> (OpenAI, Azure, vLLM, llama.cpp, Ollama); OpenAI's structured
/// outputs <c>response_format: {"type": "json_schema", "json_schema": {"name", "strict": true, "schema"}}</c> with the
/// group's keys required (OpenAI, Azure, vLLM, llama.cpp, Ollama: the server's grammar then guarantees the keys, and
/// brainstorms answer <c>{"tasks": [...]}</c>); or TGI's grammar dialect
/// <c>response_format: {"type": "json_object", "value": SCHEMA}</c> with the group's keys required.
/// </summary>
public enum JsonMode
{
    None,
    OpenAi,
    Schema,
    Tgi,
}
