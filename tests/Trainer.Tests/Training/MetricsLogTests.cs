using System.Text.Json;
using System.Text.Json.Serialization;
using Trainer.Training;

namespace Trainer.Tests.Training;

public class MetricsLogTests
{
    [Fact]
    public void Nan_and_infinity_serialise_as_strings_that_read_back()
    {
        var line = MetricsLog.Serialize(new StepMetrics(3, 0, double.NaN, 1e-3, double.PositiveInfinity, 10, 100, 1.5));
        Assert.Contains("\"loss\":\"NaN\"", line);
        Assert.Contains("\"grad_norm\":\"Infinity\"", line);
        Assert.Contains("\"learning_rate\":0.001", line);
        var options = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        var read = JsonSerializer.Deserialize<Dictionary<string, double>>(line, options)!;
        Assert.True(double.IsNaN(read["loss"]));
        Assert.True(double.IsPositiveInfinity(read["grad_norm"]));
    }

    [Fact]
    public void A_resumed_log_drops_the_steps_after_its_checkpoint_and_a_torn_last_line()
    {
        var dir = TestPaths.TempDir("metrics-resume");
        var path = Path.Combine(dir, MetricsLog.FileName);
        var lines = Enumerable.Range(1, 5).Select(s => MetricsLog.Serialize(new StepMetrics(s, 0, 1.0 / s, 1e-3, 0.5, 10, 100, s))).ToList();
        File.WriteAllLines(path, [.. lines, "{\"step\": 6, \"lo"]);
        using (var log = new MetricsLog(dir, TextWriter.Null, 10, resumedStep: 3))
            log.Write(new StepMetrics(4, 0, 0.2, 1e-3, 0.5, 10, 100, 4), TimeSpan.FromSeconds(6));
        var steps = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32());
        Assert.Equal([1, 2, 3, 4], steps);
        Assert.Equal(lines.Take(3), File.ReadAllLines(path).Take(3));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Evaluation_lines_carry_their_step_and_a_resume_drops_them_like_step_lines()
    {
        var dir = TestPaths.TempDir("metrics-eval");
        var path = Path.Combine(dir, MetricsLog.FileName);
        EvalMetrics Eval(int step) => new(step, "dev", new Dictionary<string, double>
        { ["ndcg_at_10"] = step / 8.0, ["recall_at_100"] = 0.75, ["mrr_at_10"] = 0.25, ["map_at_100"] = 0.125 }, 30, 1.5);
        var console = new StringWriter();
        using (var log = new MetricsLog(dir, console, 4))
        {
            log.WriteEval(Eval(0));
            for (int step = 1; step <= 4; step++)
            {
                log.Write(new StepMetrics(step, 0, 1.0 / step, 1e-3, 0.5, 10, 100, step), null);
                if (step % 2 == 0) log.WriteEval(Eval(step));
            }
        }
        Assert.Equal("""{"step":2,"eval_ndcg_at_10":0.25,"eval_recall_at_100":0.75,"eval_mrr_at_10":0.25,"eval_map_at_100":0.125,"eval_queries":30,"eval_runtime_s":1.5}""",
            File.ReadAllLines(path)[3]);
        Assert.Contains("eval step 2/4 | dev: 30 queries | nDCG@10 0.2500 | Recall@100 0.7500 | MRR@10 0.2500 | MAP@100 0.1250 | 1.5 s", console.ToString());

        using (new MetricsLog(dir, TextWriter.Null, 4, resumedStep: 2)) { }
        var kept = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([0, 1, 2, 2], kept.Select(l => l.GetProperty("step").GetInt32()));
        Assert.True(kept[^1].TryGetProperty("eval_ndcg_at_10", out _)); // an evaluation runs before its step's checkpoint, so it stays with it
    }

    [Fact]
    public void TensorBoard_gets_every_scalar_of_the_metrics_line()
    {
        var dir = TestPaths.TempDir("metrics-tensorboard");
        var m = new StepMetrics(1, 0, 2.5, 1e-3, 0.5, 10, 100, 1.5);
        using (var log = new MetricsLog(dir, TextWriter.Null, 10))
            log.Write(m, null);
        var events = Directory.GetFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories);
        var bytes = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(Assert.Single(events)));
        var keys = JsonDocument.Parse(File.ReadAllLines(Path.Combine(dir, MetricsLog.FileName)).Single()).RootElement
            .EnumerateObject().Select(p => p.Name).Where(n => n != "step").ToList();
        Assert.Equal(["epoch", "loss", "learning_rate", "grad_norm", "samples_per_s", "tokens_per_s", "elapsed_s"], keys);
        Assert.Equal(keys, MetricsLog.Scalars(m).Select(s => s.Name));
        foreach (var key in keys) Assert.Contains("train/" + key, bytes);
    }

    [Fact]
    public void The_console_line_says_estimating_until_there_is_an_eta()
    {
        var console = new StringWriter();
        using (var log = new MetricsLog(TestPaths.TempDir("metrics-eta"), console, 300))
        {
            log.Write(new StepMetrics(1, 0, 2.5, 1e-3, 0.5, 10, 100, 1.5), null);
            log.Write(new StepMetrics(20, 0, 2.0, 1e-3, 0.5, 10, 100, 9), TimeSpan.FromSeconds(100));
        }
        var lines = console.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("| ETA estimating", lines[0]);
        Assert.EndsWith("| ETA 1:40", lines[1]);
    }
}
