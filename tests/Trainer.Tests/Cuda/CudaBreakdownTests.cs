using System.Globalization;
using Trainer.Benchmarks;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Cuda;

/// <summary>
/// <c>trainer benchmark train --breakdown</c>'s timer on CUDA: it synchronises the device and leaves the run as a run
/// without it (within what two identical CUDA runs differ by, CudaTrainingTests), with GradCache and checkpointing too.
/// </summary>
public class CudaBreakdownTests
{
    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Theory]
    [InlineData("")]
    [InlineData("training.micro_batch_size=3;model.gradient_checkpointing=true")]
    public void Breakdown_on_cuda_synchronises_and_changes_no_result(string settings)
    {
        Assert.SkipUnless(cuda.is_available(), "needs CUDA: trains 6 steps on cuda:0 with and without the breakdown's timer");
        string[] overrides = ["training.device=cuda", .. settings.Split(';', StringSplitOptions.RemoveEmptyEntries)];
        var plainDir = TestPaths.TempDir("cuda-breakdown-plain");
        var timedDir = TestPaths.TempDir("cuda-breakdown-timed");
        var plain = ResumeTests.Train(plainDir, new TrainOptions(), overrides);
        var breakdown = new StepBreakdown(warmup: 2);
        var timed = ResumeTests.Train(timedDir, new TrainOptions { StepTimer = breakdown }, overrides);

        var (la, lb) = (ResumeTests.Losses(plainDir), ResumeTests.Losses(timedDir));
        double loss = la.Zip(lb, (x, y) => Math.Abs(x.Loss - y.Loss) / Math.Max(Math.Abs(x.Loss), 1e-12)).Max();
        using var ra = new SafetensorsReader(Path.Combine(plain.LastCheckpoint!, PeftAdapter.WeightsFile));
        using var rb = new SafetensorsReader(Path.Combine(timed.LastCheckpoint!, PeftAdapter.WeightsFile));
        double adapter;
        using (var scope = NewDisposeScope()) adapter = ra.Header.Entries.Keys.Max(k => (double)(ra.Read(k) - rb.Read(k)).abs().max().item<float>());

        var report = breakdown.Report();
        Log(string.Create(CultureInfo.InvariantCulture, $"[{settings}] breakdown vs plain: losses max rel {loss:G3}, adapter max abs {adapter:G3}; " +
            $"step {1000 * report.StepSeconds:F1} ms = {string.Join(" + ", report.Phases.Select(p => $"{p.Phase} {1000 * p.Seconds:F1}"))} + rest {1000 * report.RestSeconds:F2}"));
        Assert.True(loss <= 1e-5 && adapter <= 1e-5, $"losses max rel {loss}, adapter max abs {adapter}");
        Assert.True(report.Synchronised);
        Assert.True(report.RestSeconds >= 0);
        double forwards = report.Phases.Where(p => p.Phase is StepPhase.ForwardAllRows or StepPhase.ForwardQueries or StepPhase.ForwardDocuments
            or StepPhase.EmbedWithoutGraph or StepPhase.RecomputeForward).Sum(p => p.TimesPerStep);
        Assert.Equal(2 * forwards, report.Modules.Single(m => m.Kind == ModuleKind.Layer).CallsPerStep); // tiny-mistral: 2 layers, forwards only
        Assert.All(report.ModuleRows(), r => Assert.True(r.Seconds >= 0, $"{r.Label}: {r.Seconds} s"));
    }
}
