using System.Text.Json;
using Trainer.Data;
using Trainer.Models;
using Trainer.Tests.Cli;
using Trainer.Tests.Training;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Benchmarks;

public class TrainBenchmarkTests
{
    /// <summary>tiny-mistral, 24 tokens, LoRA r4 with dropout, batch 4 in file order: the benchmark tests' config.</summary>
    internal static string ConfigFile()
    {
        var path = Path.Combine(TestPaths.TempDir("bench-config"), "bench.yaml");
        File.WriteAllText(path, $$"""
            model: {path: {{TestPaths.TinyMistral}}, max_length: 24}
            lora: {rank: 4, alpha: 8, dropout: 0.1}
            data: {train: [{{TrainingFixture.DataFile}}], default_instruction: Find the abstract, shuffle: false}
            training: {batch_size: 4, seed: 7}
            """);
        return path;
    }

    [Fact]
    public void Benchmark_train_prints_step_time_real_tokens_matmul_rate_and_memory()
    {
        var result = CliRunner.Run("benchmark", "train", "--config", ConfigFile(), "--steps", "3", "--warmup", "1");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("benchmark train: ", StringComparison.Ordinal) && l.Contains(", LoRA in float32; 3 steps, the first 1 not timed"));
        Assert.Contains(lines, l => l.StartsWith("steps 2-3: ", StringComparison.Ordinal) && l.Contains(" s/step, ") && l.Contains(" real tokens/s, ")
                                    && l.Contains("peak GPU memory n/a (CPU only); peak RSS "));
        using var json = JsonDocument.Parse(lines[^1]);
        var r = json.RootElement;
        double secondsPerStep = r.GetProperty("s_per_step").GetDouble(), tokensPerSecond = r.GetProperty("real_tokens_per_s").GetDouble();
        Assert.True(secondsPerStep is > 0 and < 60, $"{secondsPerStep} s/step");
        Assert.Equal(3, r.GetProperty("losses").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("peak_gpu_gib").ValueKind);
        Assert.InRange(r.GetProperty("peak_rss_gib").GetDouble(), 0.05, 16);

        // Non-embedding parameters: counted from the loaded model, not from the files' headers as the benchmark does.
        long nonEmbedding;
        using (var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32))
            nonEmbedding = model.named_parameters().Where(p => !p.name.Contains("embed_tokens")).Sum(p => p.parameter.numel());
        Assert.Equal(nonEmbedding, r.GetProperty("non_embedding_parameters").GetInt64());

        // Real tokens: steps 2 and 3 train on rows 4-11 in file order; their unpadded lengths, summed.
        var data = TrainingDataReader.Read([TrainingFixture.DataFile], "Find the abstract", skipInvalid: false);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        long tokens = new[] { 4, 8 }.Sum(start => ContrastiveBatch.Build(data.Examples, Enumerable.Range(start, 4).ToList(), 7, 0, tokenizer, 24).TokenCount);
        Assert.Equal(tokens, tokensPerSecond * secondsPerStep * 2, tokens * 1e-9);
        Assert.Equal(4.0 * nonEmbedding * tokensPerSecond / 1e12, r.GetProperty("matmul_tflops").GetDouble(), 1e-15);
    }

    [Fact]
    public void Benchmark_train_refuses_a_warmup_as_long_as_the_run()
    {
        var result = CliRunner.Run("benchmark", "train", "--config", ConfigFile(), "--steps", "3", "--warmup", "3");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --warmup = 3 is invalid; expected 0 to 2 (fewer than --steps).", result.Stderr.Trim());
    }
}
