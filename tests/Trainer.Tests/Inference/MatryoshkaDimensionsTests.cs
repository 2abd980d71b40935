using System.Text.Json;
using Trainer.Evaluation;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Serving;
using Trainer.Tests.Cli;
using Trainer.Tests.Evaluation;
using Trainer.Tests.Training;
using Trainer.Training;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Inference;

/// <summary>A short run trained with loss.matryoshka_dims [32, 16, 8], and its safetensors export.</summary>
public sealed class MatryoshkaModel
{
    public MatryoshkaModel()
    {
        var dir = TestPaths.TempDir("matryoshka");
        Checkpoint = new TrainingRun(TrainingFixture.Config(Path.Combine(dir, "run"), "training.max_steps=2", "loss.matryoshka_dims=[32, 16, 8]"), new TrainOptions(), TextWriter.Null)
            .Run().LastCheckpoint!;
        Export = ExportJob.Run(new ExportOptions(Checkpoint, ["safetensors"], Path.Combine(dir, "export")), TextWriter.Null).OutputDir;
    }

    public string Checkpoint { get; }

    public string Export { get; }
}

/// <summary>
/// embed, eval and serve at a Matryoshka dim give the full vector cut to its first d components and L2-normalised
/// again; a length the model was not trained for is refused with the allowed ones named.
/// </summary>
public class MatryoshkaDimensionsTests(MatryoshkaModel trained) : IClassFixture<MatryoshkaModel>
{
    private static readonly string[] Texts = ["Vaccines expose the immune system to a harmless part of a pathogen.", "Statins lower LDL cholesterol.", "a"];

    /// <summary>The reference cut, written out here: first d components over their norm, in double.</summary>
    private static float[] Cut(float[] full, int d)
    {
        double norm = Math.Sqrt(full.Take(d).Sum(x => (double)x * x));
        return full.Take(d).Select(x => (float)(x / norm)).ToArray();
    }

    private static float[][] Embed(string model, int? dimensions, string[]? texts = null, bool query = false)
    {
        var dir = TestPaths.TempDir("mrl-embed");
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, (texts ?? Texts).Select(t => query ? JsonSerializer.Serialize(new { text = t, query = true }) : JsonSerializer.Serialize(new { text = t })));
        var output = Path.Combine(dir, "out.jsonl");
        EmbedJob.Embed(new EmbedOptions(model, input, output) { Dimensions = dimensions });
        return File.ReadLines(output).Select(l => Golden.Floats(JsonDocument.Parse(l).RootElement.GetProperty("embedding"))).ToArray();
    }

    [Fact]
    public void Export_writes_the_dims_to_embedding_config_and_the_model_card()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(trained.Export, ExportJob.EmbeddingConfigFile)));
        Assert.Equal([32, 16, 8], Golden.Ints(config.RootElement.GetProperty("matryoshka_dims")));
        var card = File.ReadAllText(Path.Combine(trained.Export, "README.md"));
        Assert.Contains("| Matryoshka dims | 32, 16, 8 (weights 1, 1, 1);", card);
        Assert.Contains("truncate_dim=8)", card);
    }

    [Theory]
    [InlineData("export", 16)]
    [InlineData("export", 8)]
    [InlineData("checkpoint", 16)]
    public void Embed_at_a_matryoshka_dim_is_the_full_vector_cut_and_renormalised(string source, int d)
    {
        string model = source == "export" ? trained.Export : trained.Checkpoint;
        var full = Embed(model, null);
        var cut = Embed(model, d);
        Assert.Equal(32, full[0].Length);
        for (int i = 0; i < full.Length; i++)
        {
            Assert.Equal(d, cut[i].Length);
            Assert.True(Golden.MaxAbsDiff(Cut(full[i], d), cut[i]) <= 1e-6, $"text {i}");
            Assert.Equal(1.0, Math.Sqrt(cut[i].Sum(x => (double)x * x)), 1e-5);
        }
        Assert.Equal(full, Embed(model, 32)); // the full size is always allowed, and is the vector itself
    }

    [Fact]
    public void Embed_refuses_other_dims_naming_the_allowed_ones_in_one_line()
    {
        var e = Assert.Throws<ArgumentException>(() => Embed(trained.Export, 12));
        Assert.Equal("--dimensions: dimensions = 12 is not supported by this model; allowed: 32, 16, 8 (its full size and the Matryoshka dims it was trained with).", e.Message);

        var dir = TestPaths.TempDir("mrl-cli");
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"a\"}\n");
        var cli = CliRunner.Run("embed", "--model", trained.Export, "--input", input, "--output", Path.Combine(dir, "out.jsonl"), "--dimensions", "12");
        Assert.NotEqual(0, cli.ExitCode);
        var lines = cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("dimensions")).ToList();
        Assert.Single(lines);
        Assert.Contains("allowed: 32, 16, 8", lines[0]);

        // a model trained without Matryoshka dims allows only its full size
        var plain = Assert.Throws<ArgumentException>(() => Embed(TestPaths.TinyMistral, 16));
        Assert.Contains("allowed: 32 (its full size: it was trained without loss.matryoshka_dims)", plain.Message);
    }

    [Fact]
    public void Eval_at_a_dim_scores_with_the_cut_vectors_and_refuses_other_dims()
    {
        var data = TinyBeir.Write();
        var evaluation = EvalJob.Run(new EvalOptions(trained.Export, data) { Dimensions = 16 }, TextWriter.Null);
        var full = EvalJob.Run(new EvalOptions(trained.Export, data), TextWriter.Null);

        // Independently: the full vectors from embed, cut here, and their cosines.
        var beir = BeirDataset.Load(data, "test");
        var documents = Embed(trained.Export, null, beir.Corpus.Select(d => d.Text).ToArray()).Select(v => Cut(v, 16)).ToArray();
        var queries = Embed(trained.Export, null, beir.Queries.Select(q => q.Text).ToArray(), query: true).Select(v => Cut(v, 16)).ToArray();
        var index = beir.Corpus.Select((d, i) => (d.Id, i)).ToDictionary(p => p.Id, p => p.i);
        double maxDiff = 0;
        for (int q = 0; q < evaluation.Results.Count; q++)
        {
            foreach (var doc in evaluation.Results[q])
            {
                double cosine = queries[q].Zip(documents[index[doc.DocId]], (a, b) => (double)a * b).Sum();
                maxDiff = Math.Max(maxDiff, Math.Abs(cosine - doc.Score));
            }
        }
        Assert.True(maxDiff <= 1e-5, $"max score diff {maxDiff}");
        Assert.Contains(evaluation.Results.Zip(full.Results), p => Math.Abs(p.First[0].Score - p.Second[0].Score) > 1e-4); // 16 dims score otherwise than 32

        var e = Assert.Throws<ArgumentException>(() => EvalJob.Run(new EvalOptions(trained.Export, data) { Dimensions = 4 }, TextWriter.Null));
        Assert.Contains("allowed: 32, 16, 8", e.Message);
    }

    [Fact]
    public async Task Serve_returns_cut_vectors_for_dimensions_and_400_naming_the_allowed_dims()
    {
        await using var server = await EmbeddingServer.StartAsync(new ServeOptions(trained.Export) { Port = 0 }, TextWriter.Null, TestContext.Current.CancellationToken);
        var url = server.Address;
        var full = await PostAsync(url, "/v1/embeddings", new { input = Texts });
        Assert.Equal(200, full.Status);
        var fullVectors = OpenAiVectors(full.Json);
        Assert.Equal(Embed(trained.Export, null), fullVectors, new VectorComparer());
        foreach (int d in new[] { 16, 8 })
        {
            var cut = await PostAsync(url, "/v1/embeddings", new { input = Texts, dimensions = d });
            Assert.Equal(200, cut.Status);
            AssertClose(fullVectors.Select(v => Cut(v, d)).ToArray(), OpenAiVectors(cut.Json), 1e-6, $"/v1/embeddings dimensions {d}");
            var tei = await PostAsync(url, "/embed", new { inputs = Texts, dimensions = d });
            AssertClose(fullVectors.Select(v => Cut(v, d)).ToArray(), TeiVectors(tei.Json), 1e-6, $"/embed dimensions {d}");
        }
        var bad = await PostAsync(url, "/v1/embeddings", new { input = Texts, dimensions = 12 });
        Assert.Equal(400, bad.Status);
        var error = bad.Json.GetProperty("error");
        Assert.Equal("dimensions", error.GetProperty("param").GetString());
        Assert.Contains("dimensions = 12 is not supported by this model; allowed: 32, 16, 8", error.GetProperty("message").GetString());
        var health = await GetAsync(url, "/health");
        Assert.Equal([32, 16, 8], Golden.Ints(health.Json.GetProperty("allowed_dimensions")));
    }

    private sealed class VectorComparer : IEqualityComparer<float[]>
    {
        public bool Equals(float[]? a, float[]? b) => a is not null && b is not null && Golden.MaxAbsDiff(a, b) <= 1e-5;

        public int GetHashCode(float[] v) => 0;
    }
}
