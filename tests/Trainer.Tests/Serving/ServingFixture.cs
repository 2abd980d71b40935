using System.Text.Json;
using Trainer.Export;
using Trainer.Serving;
using Trainer.Tests.Cli;
using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Serving;

/// <summary>
/// A checkpoint from a short training of the tiny Mistral (max_length 24, default instruction "Find the abstract"),
/// its export by the real exporter (model.onnx and safetensors), a few texts, and what <c>trainer embed</c> (the real
/// CLI) makes of them with those settings: the vectors every serving path must reproduce.
/// </summary>
public sealed class ServingFixture : IAsyncDisposable
{
    private readonly Lazy<Task<EmbeddingServer>> _errorServer;

    public const int MaxLength = 24;
    public const string DefaultInstruction = "Find the abstract";
    public const string CustomInstruction = "Given a claim, retrieve the abstract that supports it";

    public ServingFixture()
    {
        var dir = TestPaths.TempDir("serving");
        Checkpoint = new TrainingRun(TrainingFixture.Config(Path.Combine(dir, "run"), "training.max_steps=2"), new TrainOptions(), TextWriter.Null).Run().LastCheckpoint!;
        ExportDir = Path.Combine(dir, "export");
        ExportJob.Run(new ExportOptions(Checkpoint, ["onnx", "safetensors"], ExportDir), TextWriter.Null);
        TextsJson = Path.Combine(dir, "texts.json");
        File.WriteAllText(TextsJson, JsonSerializer.Serialize(new { documents = Documents, queries = Queries, instruction = CustomInstruction }));

        var input = Path.Combine(dir, "embed-input.jsonl");
        File.WriteAllLines(input, Documents.Select(t => JsonSerializer.Serialize(new { text = t }))
            .Concat(Queries.Select(t => JsonSerializer.Serialize(new { text = t, instruction = DefaultInstruction })))
            .Concat(Queries.Select(t => JsonSerializer.Serialize(new { text = t, instruction = CustomInstruction }))));
        Export = Embed("export", ["--model", ExportDir], input, dir);
        FromCheckpoint = Embed("checkpoint", ["--model", TestPaths.TinyMistral, "--adapter", Checkpoint], input, dir);
        var ids = Path.Combine(dir, "ids.jsonl");
        var tokenize = CliRunner.Run("tokenize", "--model", ExportDir, "--input", input, "--output", ids, "--max-length", MaxLength.ToString());
        Assert.True(tokenize.ExitCode == 0, tokenize.Stderr);
        DocumentTokens = File.ReadLines(ids).Take(Documents.Length).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("input_ids").GetArrayLength()).ToArray();
        _errorServer = new(() => EmbeddingServer.StartAsync(Options() with { MaxInputs = 4, Truncate = false }, TextWriter.Null));
    }

    /// <summary>One server for the error tests, started on first use: at most 4 inputs per request, longer inputs refused.</summary>
    public Task<EmbeddingServer> ErrorServer => _errorServer.Value;

    public async ValueTask DisposeAsync()
    {
        if (_errorServer.IsValueCreated) await (await _errorServer.Value).DisposeAsync();
    }

    /// <summary>Documents: a long one (cut to 24 tokens), non-ASCII text, a literal &lt;/s&gt;, a one-letter text.</summary>
    public string[] Documents { get; } =
    [
        "Vaccines expose the immune system to a harmless part of a pathogen.",
        "Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor magnetic resonance imaging, " +
        "with a line scan diffusion-weighted sequence and relative anisotropy measured in every region of interest.",
        "Über die Wärmeleitung in Kristallen — 结晶 </s> and more",
        "a",
        "Statins lower LDL cholesterol.",
    ];

    public string[] Queries { get; } = ["how do vaccines work?", "cholesterol drugs", "white matter development in newborns"];

    public string Checkpoint { get; }

    public string ExportDir { get; }

    /// <summary>{"documents", "queries", "instruction"}: the input of tests/js/openai-embeddings.mjs.</summary>
    public string TextsJson { get; }

    /// <summary><c>trainer embed --model EXPORT --max-length 24</c>.</summary>
    public Reference Export { get; }

    /// <summary><c>trainer embed --model tiny-mistral --adapter CHECKPOINT --max-length 24</c>.</summary>
    public Reference FromCheckpoint { get; }

    /// <summary>Tokens of each document as <c>trainer tokenize --max-length 24</c> gives them (BOS and EOS included).</summary>
    public int[] DocumentTokens { get; }

    /// <summary>Documents, queries with the default instruction, queries with <see cref="CustomInstruction"/>.</summary>
    public sealed record Reference(float[][] Documents, float[][] Queries, float[][] QueriesCustom);

    public Reference For(string source) => source == "checkpoint" ? FromCheckpoint : Export;

    public string ModelPath(string source) => source == "checkpoint" ? Checkpoint : ExportDir;

    /// <summary>In-process server options on a free port.</summary>
    public ServeOptions Options(string source = "export", string engine = "torch") => new(ModelPath(source)) { Port = 0, Engine = engine };

    public static Task<EmbeddingServer> StartAsync(ServeOptions options) =>
        EmbeddingServer.StartAsync(options, TextWriter.Null, TestContext.Current.CancellationToken);

    private Reference Embed(string name, string[] model, string input, string dir)
    {
        var output = Path.Combine(dir, $"embed-{name}.jsonl");
        var result = CliRunner.Run(["embed", .. model, "--input", input, "--output", output, "--max-length", MaxLength.ToString()]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var vectors = File.ReadLines(output).Select(l => Golden.Floats(JsonDocument.Parse(l).RootElement.GetProperty("embedding"))).ToArray();
        int d = Documents.Length, q = Queries.Length;
        Assert.Equal(d + 2 * q, vectors.Length);
        return new Reference(vectors[..d], vectors[d..(d + q)], vectors[(d + q)..]);
    }
}
