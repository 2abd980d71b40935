using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Trainer.Serving;

/// <summary>
/// The response bodies, written with <see cref="Utf8JsonWriter"/> as <c>trainer embed</c> writes its vectors (each float
/// in its shortest round-trip form, so a client parses back the very float32 the model produced).
/// </summary>
public static class ResponseJson
{
    /// <summary>OpenAI: <c>{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}</c>.</summary>
    public static byte[] OpenAi(EmbeddingRequest request, EmbeddingResult result, string model) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        for (int i = 0; i < result.Vectors.Length; i++)
        {
            w.WriteStartObject();
            w.WriteString("object", "embedding");
            w.WriteNumber("index", i);
            w.WritePropertyName("embedding");
            if (request.Base64) w.WriteStringValue(Convert.ToBase64String(LittleEndianBytes(result.Vectors[i])));
            else Floats(w, result.Vectors[i]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("model", model);
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", result.PromptTokens);
        w.WriteNumber("total_tokens", result.PromptTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>text-embeddings-inference: an array of vectors.</summary>
    public static byte[] Tei(EmbeddingResult result) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var vector in result.Vectors) Floats(w, vector);
        w.WriteEndArray();
    });

    /// <summary><c>{"error": {"message", "type", "code", "param"}}</c>.</summary>
    public static byte[] Error(ApiError error) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", error.Message);
        w.WriteString("type", error.Type);
        w.WriteString("code", error.Code);
        if (error.Param is null) w.WriteNull("param");
        else w.WriteString("param", error.Param);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Floats(Utf8JsonWriter w, float[] vector)
    {
        w.WriteStartArray();
        foreach (var v in vector) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    private static byte[] LittleEndianBytes(float[] vector)
    {
        var bytes = MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        return bytes;
    }
}
