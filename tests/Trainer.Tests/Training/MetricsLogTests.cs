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
