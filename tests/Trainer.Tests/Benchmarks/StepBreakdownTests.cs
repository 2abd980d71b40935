using System.Text.Json;
using Trainer.Benchmarks;
using Trainer.Tests.Cli;
using Trainer.Tests.Training;
using Trainer.Training;
using static Trainer.Training.StepPhase;

namespace Trainer.Tests.Benchmarks;

public class StepBreakdownTests
{
    private static readonly StepPhase[] Forwards = [ForwardAllRows, ForwardQueries, ForwardDocuments, EmbedWithoutGraph, RecomputeForward];

    private static int[] Bits(string outputDir) => ResumeTests.Losses(outputDir).Select(l => BitConverter.SingleToInt32Bits(l.Loss)).ToArray();

    private static double TimesPerStep(StepBreakdownReport report, StepPhase phase) => report.Phases.SingleOrDefault(p => p.Phase == phase)?.TimesPerStep ?? 0;

    [Theory]
    [InlineData("")]
    [InlineData("model.max_length=64")] // queries and documents padded apart (the fixture's 24 tokens mostly fill both)
    [InlineData("model.gradient_checkpointing=true")]
    [InlineData("training.micro_batch_size=3")]
    [InlineData("training.micro_batch_size=3;model.gradient_checkpointing=true")]
    public void Breakdown_changes_no_result_and_times_every_phase_and_each_forward_once(string settings)
    {
        var overrides = settings.Split(';', StringSplitOptions.RemoveEmptyEntries);
        var plainDir = TestPaths.TempDir("breakdown-plain");
        var timedDir = TestPaths.TempDir("breakdown-timed");
        var plain = ResumeTests.Train(plainDir, new TrainOptions(), overrides);
        var breakdown = new StepBreakdown(warmup: 2);
        var timed = ResumeTests.Train(timedDir, new TrainOptions { StepTimer = breakdown }, overrides);

        // Bitwise the same run: every logged loss, and the adapter after the last step.
        Assert.Equal(Bits(plainDir), Bits(timedDir));
        Assert.Equal(ResumeTests.Adapter(plain.LastCheckpoint!), ResumeTests.Adapter(timed.LastCheckpoint!));

        var report = breakdown.Report();
        Assert.Equal(4, report.TimedSteps); // steps 3-6 of 6
        bool cached = settings.Contains("micro_batch_size");
        var phases = report.Phases.Select(p => p.Phase).ToHashSet();
        var forwardPhases = phases.Intersect(Forwards).ToHashSet();
        StepPhase[] expected = cached
            ? [Tokenize, ZeroGrad, PadAndCopy, EmbedWithoutGraph, Loss, EmbeddingGradients, RecomputeForward, RecomputeBackward, ClipAndRead, OptimizerStep]
            : [Tokenize, ZeroGrad, PadAndCopy, .. forwardPhases, Loss, Backward, ClipAndRead, OptimizerStep];
        Assert.Equal(expected.ToHashSet(), phases);
        if (!cached) Assert.Equal(phases.Contains(ForwardQueries), phases.Contains(ForwardDocuments));
        if (settings.Contains("max_length=64")) Assert.Contains(ForwardQueries, phases);
        foreach (var once in new[] { Tokenize, ZeroGrad, Loss, Backward, EmbeddingGradients, ClipAndRead, OptimizerStep }.Where(phases.Contains))
            Assert.Equal(1.0, TimesPerStep(report, once));

        // One pad and copy per forward; with GradCache every micro-batch is embedded, recomputed and back-propagated once.
        double forwards = Forwards.Sum(p => TimesPerStep(report, p));
        Assert.Equal(forwards, TimesPerStep(report, PadAndCopy));
        if (cached)
        {
            Assert.Equal(TimesPerStep(report, EmbedWithoutGraph), TimesPerStep(report, RecomputeForward));
            Assert.Equal(TimesPerStep(report, EmbedWithoutGraph), TimesPerStep(report, RecomputeBackward));
        }

        // The modules are timed in the forwards only: the recomputes of gradient checkpointing in backward are not counted.
        // tiny-mistral: 2 layers, LoRA on all seven projections.
        var calls = report.Modules.ToDictionary(m => m.Kind, m => m.CallsPerStep);
        var perForward = new Dictionary<ModuleKind, double>
        {
            [ModuleKind.Model] = 1,
            [ModuleKind.Embedding] = 1,
            [ModuleKind.Layer] = 2,
            [ModuleKind.LayerNorm] = 4,
            [ModuleKind.Attention] = 2,
            [ModuleKind.AttentionProjection] = 8,
            [ModuleKind.Mlp] = 2,
            [ModuleKind.MlpProjection] = 6,
            [ModuleKind.FinalNorm] = 1,
        };
        Assert.Equal(perForward.Keys.ToHashSet(), calls.Keys.ToHashSet());
        foreach (var (kind, n) in perForward) Assert.Equal(n * forwards, calls[kind]);

        // Inclusive times nest: every "rest" row (a parent minus its children) and the time outside the model are >= 0.
        Assert.All(report.ModuleRows(), r => Assert.True(r.Seconds >= 0, $"{r.Label}: {r.Seconds} s"));
        Assert.True(report.SecondsOf(ModuleKind.Model) <= report.ForwardSeconds);
    }

    [Fact]
    public void The_phases_add_up_to_a_step_that_holds_the_trainers_own_step_clock()
    {
        var dir = TestPaths.TempDir("breakdown-sum");
        var breakdown = new StepBreakdown(warmup: 2);
        ResumeTests.Train(dir, new TrainOptions { StepTimer = breakdown });
        var report = breakdown.Report();

        Assert.InRange(report.RestSeconds, 0, 0.1 * report.StepSeconds);
        Assert.Equal(report.StepSeconds, report.Phases.Sum(p => p.Seconds) + report.RestSeconds, 1e-12);

        // metrics.jsonl's step time (4 rows / samples_per_s) runs from zero_grad to the optimizer step, inside the
        // breakdown's step, which adds the tokenizing before it and a few statements.
        double clock = File.ReadLines(Path.Combine(dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(m => m.GetProperty("step").GetInt32() > 2).Average(m => 4 / m.GetProperty("samples_per_s").GetDouble());
        double tokenize = report.Phases.Single(p => p.Phase == Tokenize).Seconds;
        Assert.True(report.StepSeconds >= tokenize + clock * (1 - 1e-9), $"breakdown step {report.StepSeconds} s < tokenize {tokenize} s + step clock {clock} s");
        Assert.True(report.StepSeconds - tokenize - clock <= 0.05 * report.StepSeconds + 0.002, $"breakdown step {report.StepSeconds} s, tokenize {tokenize} s, step clock {clock} s");
    }

    [Fact]
    public void Benchmark_train_breakdown_prints_both_tables_and_the_losses_of_a_run_without_it()
    {
        var config = TrainBenchmarkTests.ConfigFile();
        var plain = CliRunner.Run("benchmark", "train", "--config", config, "--steps", "3", "--warmup", "1");
        var timed = CliRunner.Run("benchmark", "train", "--config", config, "--steps", "3", "--warmup", "1", "--breakdown");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.True(timed.ExitCode == 0, timed.Stderr);
        static string Losses(string stdout) =>
            JsonDocument.Parse(stdout.Split('\n').Single(l => l.StartsWith("{\"benchmark\":\"trainer\"", StringComparison.Ordinal))).RootElement.GetProperty("losses").GetRawText();
        Assert.Equal(Losses(plain.Stdout), Losses(timed.Stdout));
        Assert.DoesNotContain("breakdown of steps", plain.Stdout);

        var lines = timed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("breakdown of steps 2-3, mean per step (CPU: nothing to synchronise):", lines);
        Assert.Contains("| phase | times/step | ms/step | % of step |", lines);
        foreach (var row in new[] { "| batch: tokenize (host) | 1 |", "| loss: similarities + cross-entropy | 1 |", "| backward | 1 |", "| optimizer step (AdamW) | 1 |", "| rest: the step minus the rows above | |", "| **step**: tokenize to optimizer step | 1 |" })
            Assert.Contains(lines, l => l.StartsWith(row, StringComparison.Ordinal));
        Assert.Contains("| module | calls/step | ms/step | % of forward |", lines);
        foreach (var row in new[] { "| · model forward (the decoder) |", "| · · embed_tokens (Embedding) |", "| · · · input_layernorm + post_attention_layernorm (RmsNorm) |",
                                    "| · · · self_attn (MistralAttention) |", "| · · · · q_proj, k_proj, v_proj, o_proj (LoraLinear: base matmul + LoRA branch) |",
                                    "| · · · mlp (MistralMlp) |", "| · · · · gate_proj, up_proj, down_proj (LoraLinear: base matmul + LoRA branch) |", "| · · norm (final RmsNorm) |" })
            Assert.Contains(lines, l => l.StartsWith(row, StringComparison.Ordinal));

        using var json = JsonDocument.Parse(lines[^1]);
        var r = json.RootElement;
        Assert.Equal("trainer-breakdown", r.GetProperty("benchmark").GetString());
        Assert.Equal(2, r.GetProperty("timed_steps").GetInt32());
        Assert.False(r.GetProperty("synchronised").GetBoolean());
        double step = r.GetProperty("step_ms").GetDouble(), phases = r.GetProperty("phases_ms").EnumerateObject().Sum(p => p.Value.GetDouble());
        Assert.Equal(step, phases + r.GetProperty("rest_ms").GetDouble(), 0.01);
        Assert.Equal(["model", "embedding", "layer", "layer_norm", "attention", "attention_projection", "mlp", "mlp_projection", "final_norm"],
            r.GetProperty("modules_ms").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Breakdown_refuses_several_devices_before_loading_anything()
    {
        var config = TrainingFixture.Config(TestPaths.TempDir("breakdown-devices"));
        var path = Path.Combine(TestPaths.TempDir("breakdown-devices-config"), "train.yaml");
        File.WriteAllText(path, Trainer.Config.ConfigLoader.ToYaml(config));
        var e = Assert.Throws<ArgumentException>(() => TrainBenchmark.Run(path, ["training.devices=[cpu, cpu]"], 3, 1, TextWriter.Null, breakdown: true));
        Assert.Equal("--breakdown times one device; training.devices lists 2 (cpu, cpu). Add --set training.devices=null --set training.device=DEVICE.", e.Message);
    }
}
