using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Weights;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Export;

/// <summary>One short training run on the tiny Mistral whose checkpoint (B ≠ 0 after two steps) every export test uses.</summary>
public sealed class TrainedCheckpoint
{
    public TrainedCheckpoint()
    {
        var dir = TestPaths.TempDir("export-train");
        Path = new TrainingRun(TrainingFixture.Config(dir, "training.max_steps=2"), new TrainOptions(), TextWriter.Null).Run().LastCheckpoint!;
    }

    public string Path { get; }
}

public class ExportTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private static ExportResult Export(string checkpoint, string dtype, params string[] formats) =>
        ExportJob.Run(new ExportOptions(checkpoint, formats, TestPaths.TempDir("export-" + dtype)) { DType = dtype }, TextWriter.Null);

    [Fact]
    public void Float32_onnx_matches_torchsharp_on_embeddings_and_real_token_hidden_states()
    {
        var result = Export(trained.Path, "float32", "onnx");
        Assert.NotNull(result.Parity);
        Assert.True(result.Parity!.EmbeddingMaxAbs <= 1e-4, $"embedding {result.Parity.EmbeddingMaxAbs}");
        Assert.True(result.Parity.HiddenMaxAbs <= 1e-4, $"hidden {result.Parity.HiddenMaxAbs}");
        Assert.True(result.Parity.EmbeddingMinCosine >= 0.99999, result.Parity.ToString());
        Assert.False(File.Exists(Path.Combine(result.OutputDir, ExportJob.OnnxDataFile)));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.OutputDir, ExportJob.EmbeddingConfigFile)));
        Assert.Equal("Instruct: {instruction}\nQuery: {text}", config.RootElement.GetProperty("query_template").GetString());
        Assert.Equal(2, config.RootElement.GetProperty("eos_token_id").GetInt32());
        Assert.True(File.Exists(Path.Combine(result.OutputDir, "tokenizer.model")));
    }

    [Fact]
    public void Float16_onnx_passes_the_float16_rule_and_is_really_half_precision()
    {
        var result = Export(trained.Path, "float16", "onnx");
        var p = result.Parity!;
        Assert.True(p.Passed, p.ToString());
        Assert.Same(ParityRule.Float16, p.Rule);
        Assert.True(p.EmbeddingMaxAbs > 1e-5, p.ToString()); // it really ran in half precision
        Assert.False(ParityRule.Float32.Accepts(p));         // which the float32 rule would not accept
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.OutputDir, "config.json")));
        Assert.Equal("float16", config.RootElement.GetProperty("torch_dtype").GetString());
    }

    [Theory]
    [InlineData(14)]
    [InlineData(18)] // ReduceMean takes its axes as an input from 18 on
    [InlineData(21)]
    public void Other_opsets_export_and_match(int opset)
    {
        var result = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], TestPaths.TempDir($"export-opset{opset}")) { Opset = opset }, TextWriter.Null);
        Assert.True(result.Parity!.EmbeddingMaxAbs <= 1e-4 && result.Parity.HiddenMaxAbs <= 1e-4, $"opset {opset}");
    }

    [Fact]
    public void External_data_variant_loads_and_matches()
    {
        var output = TestPaths.TempDir("export-external");
        var result = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], output) { ExternalData = true }, TextWriter.Null);
        Assert.True(File.Exists(Path.Combine(output, ExportJob.OnnxDataFile)));
        Assert.True(new FileInfo(Path.Combine(output, ExportJob.OnnxFile)).Length < 100_000); // weights live in the side file
        // onnx/ holds the same pair (the model names its data file relative to itself), and transformers.js is told to fetch it
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, ExportJob.OnnxDataFile)), File.ReadAllBytes(Path.Combine(output, "onnx", ExportJob.OnnxDataFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, ExportJob.OnnxFile)), File.ReadAllBytes(Path.Combine(output, "onnx", ExportJob.OnnxFile)));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "config.json")));
        Assert.True(config.RootElement.GetProperty("transformers.js_config").GetProperty("use_external_data_format").GetBoolean());
        var mirrored = OnnxVerifier.Verify(Path.Combine(output, "onnx", ExportJob.OnnxFile), TestPaths.TinyMistral, trained.Path, ParityRule.Float32, OnnxVerifier.SampleRows(TestPaths.TinyMistral, 24));
        Assert.True(mirrored.Passed, mirrored.ToString());
        Assert.True(result.Parity!.EmbeddingMaxAbs <= 1e-4 && result.Parity.HiddenMaxAbs <= 1e-4);
    }

    [Fact]
    public void Merged_safetensors_equal_the_merge_formula()
    {
        var result = Export(trained.Path, "float32", "safetensors");
        var settings = PeftAdapter.ReadSettings(trained.Path);
        using var adapter = new SafetensorsReader(Path.Combine(trained.Path, PeftAdapter.WeightsFile));
        using var base_ = new SafetensorsReader(Path.Combine(TestPaths.TinyMistral, "model.safetensors"));
        using var merged = new SafetensorsReader(Path.Combine(result.OutputDir, "model.safetensors"));
        Assert.Equal(base_.Header.Entries.Keys.Order(), merged.Header.Entries.Keys.Order());
        int mergedCount = 0;
        double max = 0;
        foreach (var key in base_.Header.Entries.Keys)
        {
            using var scope = NewDisposeScope();
            var expected = base_.Read(key, ScalarType.Float32);
            var module = key[..^".weight".Length];
            var aKey = $"base_model.model.{module}.lora_A.weight";
            if (adapter.Header.Entries.ContainsKey(aKey))
            {
                var delta = adapter.Read($"base_model.model.{module}.lora_B.weight").matmul(adapter.Read(aKey)) * settings.Scaling;
                Assert.True(delta.abs().max().item<float>() > 0, key);
                expected = expected + delta;
                mergedCount++;
            }
            max = Math.Max(max, (merged.Read(key) - expected).abs().max().item<float>());
        }
        Assert.Equal(14, mergedCount);
        Assert.True(max <= 1e-6, $"max {max}");
    }

    [Fact]
    public void Trainer_embed_on_the_merged_model_equals_trainer_embed_with_the_adapter_on_the_base()
    {
        var result = Export(trained.Path, "float32", "safetensors");
        var dir = TestPaths.TempDir("export-embed");
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, Golden.TinyCases().Select(c => JsonSerializer.Serialize(new { text = c.Text, instruction = c.Instruction })));
        var merged = Cli.CliRunner.Run("embed", "--model", result.OutputDir, "--input", input, "--output", Path.Combine(dir, "merged.jsonl"));
        var adapted = Cli.CliRunner.Run("embed", "--model", TestPaths.TinyMistral, "--adapter", trained.Path, "--input", input, "--output", Path.Combine(dir, "adapted.jsonl"));
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.True(adapted.ExitCode == 0, adapted.Stderr);
        float[] Vector(string line) => Golden.Floats(JsonDocument.Parse(line).RootElement.GetProperty("embedding"));
        var a = File.ReadAllLines(Path.Combine(dir, "merged.jsonl")).Select(Vector).ToList();
        var b = File.ReadAllLines(Path.Combine(dir, "adapted.jsonl")).Select(Vector).ToList();
        Assert.Equal(7, a.Count);
        for (int i = 0; i < a.Count; i++) Assert.True(Golden.MaxAbsDiff(a[i], b[i]) <= 1e-5, $"case {i}");
        Assert.True(Golden.MaxAbsDiff(Golden.TinyCases()[0].Embedding, a[0]) > 1e-4); // the adapter changed the model
    }

    [Fact]
    public void Verification_fails_when_the_onnx_model_is_not_the_trained_one()
    {
        var result = Export(trained.Path, "float32", "onnx");
        var onnx = Path.Combine(result.OutputDir, ExportJob.OnnxFile);
        var rows = OnnxVerifier.SampleRows(TestPaths.TinyMistral, 64);
        var parity = OnnxVerifier.Verify(onnx, TestPaths.TinyMistral, adapterDir: null, ParityRule.Float32, rows); // reference without the adapter
        Assert.False(parity.Passed);
        Assert.True(parity.EmbeddingMaxAbs > 1e-4);
    }

    [Fact]
    public void Output_dir_resolves_to_its_newest_valid_checkpoint()
    {
        var outputDir = Path.GetDirectoryName(trained.Path)!;
        Assert.Equal(trained.Path, CheckpointStore.Resolve(outputDir, TextWriter.Null));
        var e = Assert.Throws<DirectoryNotFoundException>(() => CheckpointStore.Resolve(Path.Combine(outputDir, "nope"), TextWriter.Null));
        Assert.Contains("nope", e.Message);
    }
}
