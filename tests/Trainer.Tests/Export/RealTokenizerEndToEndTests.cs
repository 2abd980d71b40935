using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Models.Weights;
using Trainer.Serving;
using Trainer.Tests.Interop;
using Trainer.Tests.Serving;
using Trainer.Tests.Text;
using Trainer.Tests.Training;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Export;

/// <summary>
/// #21's end to end, per family: a tiny random model (<see cref="Models.FamilyGoldenTests"/>' shapes: hidden 64, 2
/// layers) of a real vocabulary with the real tokenizer.json (Qwen3's for qwen3 and qwen2, Llama 3's for the llama3
/// RoPE model) trains for 3 steps on SciFact rows, exports (safetensors and ONNX, whose parity check passes), and the
/// export embeds and serves the checkpoint's vectors. The exported tokenizer.json appends the token the trainer pools
/// (&lt;|endoftext|&gt; for Qwen, whose base's post-processor appends nothing and whose eos_token is the chat token
/// &lt;|im_end|&gt;; eos_token &lt;|end_of_text|&gt; for this Llama 3 file), Hugging Face's Rust tokenizers library
/// reads our very ids from it, and transformers.js embeds them from the export's ONNX graph to the same vectors.
/// </summary>
public class RealTokenizerEndToEndTests
{
    public static TheoryData<string, string, int, int, int, int> Families => new()
    {
        { "tiny-qwen3", "qwen3", 151669, 151643, 151645, 151643 },
        { "tiny-qwen2", "qwen3", 151669, 151643, 151643, 151643 },
        { "tiny-llama3", "llama3", 128256, 128000, 128001, 128001 },
    };

    /// <summary>A seeded random model folder of <paramref name="fixture"/>'s shape and the real vocabulary, with the real tokenizer files.</summary>
    internal static string TinyModel(string fixture, string tokenizerPackage, int vocab, int bos, int eos)
    {
        var dir = TestPaths.TempDir(fixture + "-real-tokenizer");
        var config = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture(fixture, "config.json")))!.AsObject();
        (config["vocab_size"], config["bos_token_id"], config["eos_token_id"]) = (vocab, bos, eos);
        File.WriteAllText(Path.Combine(dir, PretrainedLoader.ConfigFile), config.ToJsonString());
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(ByteLevelBpeReference.Package(tokenizerPackage), file), Path.Combine(dir, file));
        var family = ModelFamilies.Load(Path.Combine(dir, PretrainedLoader.ConfigFile));
        var layout = family.Tensors().Select(t => (t.Name, t.Shape, ScalarType.Float32)).ToList();
        using var generator = new Generator(seed: 5);
        WeightFilesWriter.Write(dir, layout, name =>
        {
            var shape = layout.First(l => l.Name == name).Shape;
            using var scale = (name.Contains("norm") ? 0.1 : 0.02).ToScalar();
            using var one = 1.ToScalar();
            var draw = randn(shape, generator: generator) * scale;
            return name.Contains("norm") ? draw.add(one, alpha: one) : draw;
        });
        return dir;
    }

    /// <summary>The ids (special tokens included) Hugging Face's Rust tokenizers gives <paramref name="texts"/> from <paramref name="modelDir"/>'s tokenizer.json.</summary>
    internal static List<int[]> RustIds(string modelDir, string[] texts, string work)
    {
        File.WriteAllLines(Path.Combine(work, "texts.jsonl"), texts.Select(t => JsonSerializer.Serialize(t)));
        var node = NodeRunner.Run("bpe-ids.mjs", "rust", modelDir, Path.Combine(work, "texts.jsonl"), Path.Combine(work, "ids.jsonl"));
        Assert.True(node.ExitCode == 0, node.Stderr);
        return File.ReadAllLines(Path.Combine(work, "ids.jsonl")).Select(l => Golden.Ints(JsonDocument.Parse(l).RootElement.GetProperty("special"))).ToList();
    }

    /// <summary><c>trainer embed</c>'s vectors of <paramref name="texts"/> from <paramref name="source"/> (a checkpoint or an export).</summary>
    internal static float[][] EmbedTexts(string source, string[] texts, string work)
    {
        var input = Path.Combine(work, "in.jsonl");
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
        var output = Path.Combine(work, $"out-{Guid.NewGuid():N}.jsonl");
        EmbedJob.Embed(new EmbedOptions(source, input, output));
        return File.ReadAllLines(output).Select(l => Golden.Floats(JsonDocument.Parse(l).RootElement.GetProperty("embedding"))).ToArray();
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task A_tiny_model_with_the_real_tokenizer_trains_exports_embeds_and_serves_the_same_vectors(string fixture, string tokenizerPackage, int vocab,
        int bos, int eos, int pooled)
    {
        var model = TinyModel(fixture, tokenizerPackage, vocab, bos, eos);
        var run = TestPaths.TempDir(fixture + "-e2e-run");
        var config = TrainingFixture.Config(run, $"model.path={model}", "training.max_steps=3", "checkpoint.every_steps=3");
        var summary = new TrainingRun(config, new TrainOptions(), TextWriter.Null).Run();
        var losses = File.ReadAllLines(Path.Combine(run, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetSingle()).ToList();
        Assert.Equal(3, losses.Count);
        Assert.All(losses, l => Assert.True(float.IsFinite(l) && l > 0));

        var exportDir = Path.Combine(TestPaths.TempDir(fixture + "-e2e-export"), "export");
        var export = ExportJob.Run(new ExportOptions(summary.LastCheckpoint!, ["safetensors", "onnx"], exportDir), TextWriter.Null);
        Assert.True(export.Passed, export.Parity?.ToString());
        using var embeddingConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(exportDir, ExportJob.EmbeddingConfigFile)));
        Assert.Equal(pooled, embeddingConfig.RootElement.GetProperty("eos_token_id").GetInt32()); // Qwen3: <|endoftext|>, not the chat <|im_end|>
        Assert.Equal(JsonValueKind.Null, embeddingConfig.RootElement.GetProperty("bos_token_id").ValueKind);

        // the same ids from our tokenizer (base folder) and from Rust reading the exported tokenizer.json
        string[] texts = ["How do vaccines train the immune system?", "Vaccines expose the immune system to a harmless part of a pathogen.", "短い文 and 𠀀abc"];
        var tokenizer = EmbeddingTokenizer.Load(model);
        var work = TestPaths.TempDir(fixture + "-e2e-ids");
        var rust = RustIds(exportDir, texts, work);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(tokenizer.Encode(texts[i], null, 512), rust[i]);
        Assert.All(rust, ids => Assert.Equal(pooled, ids[^1]));

        // embed from the export and from the checkpoint, then serve the export: the same vectors
        float[][] Embed(string source) => EmbedTexts(source, texts, work);
        var fromCheckpoint = Embed(summary.LastCheckpoint!);
        ServingHttp.AssertClose(fromCheckpoint, Embed(exportDir), 1e-5, "embed from the export");
        // transformers.js on the export's onnx/model.onnx: its pipeline and the model's own output
        var jsInput = Path.Combine(work, "js-in.json");
        File.WriteAllText(jsInput, JsonSerializer.Serialize(new { queries = Array.Empty<string>(), documents = texts }));
        var js = NodeRunner.Run("transformers-embed.mjs", exportDir, jsInput, Path.Combine(work, "js.json"));
        Assert.True(js.ExitCode == 0, js.Stderr);
        var jsOut = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "js.json"))).RootElement;
        Assert.Equal(rust.Select(r => r.ToArray()), jsOut.GetProperty("input_ids").EnumerateArray().Select(Golden.Ints));
        foreach (var output in new[] { "pipeline_batch", "model_output" })
            ServingHttp.AssertClose(fromCheckpoint, jsOut.GetProperty(output).EnumerateArray().Select(Golden.Floats).ToArray(), 1e-4, $"transformers.js {output}");

        await using var server = await ServingFixture.StartAsync(new ServeOptions(exportDir) { Port = 0 });
        var served = await ServingHttp.PostAsync(server.Address, "/v1/embeddings", new { input = texts });
        Assert.Equal(200, served.Status);
        ServingHttp.AssertClose(fromCheckpoint, ServingHttp.OpenAiVectors(served.Json), 1e-5, "served from the export");
    }
}
