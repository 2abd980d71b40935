using System.Text.Json;
using Trainer.Tests.Interop;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// Every way into the server gives the vectors <c>trainer embed</c> gives with the model's own settings (max_length and
/// default instruction from the export's embedding_config.json or the checkpoint's config.yaml): plain HTTP and the
/// official openai npm client, both endpoints, documents and queries, the torch and onnx engines, export and checkpoint.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingParityTests(ServingFixture fixture)
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData("export", "torch")]
    [InlineData("export", "onnx")]
    [InlineData("checkpoint", "torch")]
    public async Task Http_on_both_endpoints_equals_trainer_embed(string source, string engine)
    {
        var expected = fixture.For(source);
        await using var server = await ServingFixture.StartAsync(fixture.Options(source, engine));
        Assert.Equal(ServingFixture.MaxLength, server.Model.MaxInputTokens);
        Assert.Equal(ServingFixture.DefaultInstruction, server.Model.Instruction);
        var url = server.Address;

        var documents = await PostAsync(url, "/v1/embeddings", new { model = "anything", input = fixture.Documents });
        Assert.Equal(200, documents.Status);
        Assert.Equal("list", documents.Json.GetProperty("object").GetString());
        Assert.Equal(server.Model.Name, documents.Json.GetProperty("model").GetString());
        Assert.All(documents.Json.GetProperty("data").EnumerateArray(), d => Assert.Equal("embedding", d.GetProperty("object").GetString()));
        Assert.Equal(fixture.DocumentTokens.Sum(), documents.Json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(fixture.DocumentTokens.Sum(), documents.Json.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(ServingFixture.MaxLength, fixture.DocumentTokens.Max()); // the long document was cut at the model's max_length
        AssertClose(expected.Documents, OpenAiVectors(documents.Json), Tolerance, "/v1/embeddings documents");

        var queries = await PostAsync(url, "/v1/embeddings", new { input = fixture.Queries, input_type = "query" });
        AssertClose(expected.Queries, OpenAiVectors(queries.Json), Tolerance, "/v1/embeddings queries");
        var custom = await PostAsync(url, "/v1/embeddings", new { input = fixture.Queries, instruction = ServingFixture.CustomInstruction });
        AssertClose(expected.QueriesCustom, OpenAiVectors(custom.Json), Tolerance, "/v1/embeddings queries with an instruction");
        var single = await PostAsync(url, "/v1/embeddings", new { input = fixture.Documents[2] });
        AssertClose([expected.Documents[2]], OpenAiVectors(single.Json), Tolerance, "/v1/embeddings one string");
        var base64 = await PostAsync(url, "/v1/embeddings", new { input = fixture.Documents, encoding_format = "base64" });
        var decoded = base64.Json.GetProperty("data").EnumerateArray()
            .Select(d => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(d.GetProperty("embedding").GetString()!)).ToArray()).ToArray();
        Assert.Equal(OpenAiVectors(documents.Json), decoded); // base64 carries the very floats of the JSON numbers

        var teiDocuments = await PostAsync(url, "/embed", new { inputs = fixture.Documents, normalize = true });
        Assert.Equal(200, teiDocuments.Status);
        AssertClose(expected.Documents, TeiVectors(teiDocuments.Json), Tolerance, "/embed documents");
        var teiQueries = await PostAsync(url, "/embed", new { inputs = fixture.Queries, prompt_name = "query" });
        AssertClose(expected.Queries, TeiVectors(teiQueries.Json), Tolerance, "/embed prompt_name query");
        var teiCustom = await PostAsync(url, "/embed", new { inputs = fixture.Queries, instruction = ServingFixture.CustomInstruction, truncate = true });
        AssertClose(expected.QueriesCustom, TeiVectors(teiCustom.Json), Tolerance, "/embed instruction");
        var teiSingle = await PostAsync(url, "/embed", new { inputs = fixture.Documents[0], prompt_name = "document" });
        AssertClose([expected.Documents[0]], TeiVectors(teiSingle.Json), Tolerance, "/embed one string");

        var health = await GetAsync(url, "/health");
        Assert.Equal(200, health.Status);
        Assert.Equal("ok", health.Json.GetProperty("status").GetString());
        Assert.Equal(32, health.Json.GetProperty("dimensions").GetInt32());
        Assert.StartsWith(engine, health.Json.GetProperty("engine").GetString());
    }

    [Theory]
    [InlineData("torch")]
    [InlineData("onnx")]
    public async Task The_official_openai_npm_client_gets_trainer_embed_vectors(string engine)
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options("export", engine));
        var run = await Task.Run(() => NodeRunner.Run("openai-embeddings.mjs", server.Address.ToString(), fixture.TextsJson), TestContext.Current.CancellationToken);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        float[][] Vectors(string name) => json.GetProperty(name).EnumerateArray().Select(Golden.Floats).ToArray();

        // the client's default asks for base64 and decodes it; the others ask for float or the client's default
        Assert.Equal(["base64", "float", "base64", "base64", "base64", "base64"], json.GetProperty("wire_encoding_formats").EnumerateArray().Select(e => e.GetString()));
        AssertClose(fixture.Export.Documents, Vectors("documents"), Tolerance, "openai client, default encoding");
        AssertClose(fixture.Export.Documents, Vectors("documents_float"), Tolerance, "openai client, encoding_format float");
        AssertClose(fixture.Export.Queries, Vectors("queries"), Tolerance, "openai client, input_type query");
        AssertClose(fixture.Export.QueriesCustom, Vectors("queries_instruction"), Tolerance, "openai client, instruction");
        AssertClose([fixture.Export.Documents[0]], Vectors("single"), Tolerance, "openai client, one string");
        Assert.Equal(fixture.DocumentTokens.Sum(), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal("list", json.GetProperty("object").GetString());

        var error = json.GetProperty("error");
        Assert.Equal("BadRequestError", error.GetProperty("class").GetString());
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        Assert.Equal("empty_input", error.GetProperty("code").GetString());
        Assert.Contains("empty array", error.GetProperty("message").GetString());
    }
}
