using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trainer.Synthesis;

/// <summary>The JSON settings of every synth file: snake_case names, nulls left out, no indentation (one record a line).</summary>
public static class SynthJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };
}
