using System.Text.RegularExpressions;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Benchmarks;

public class SynthBenchmarkTests
{
    [Fact]
    public void Benchmark_synth_runs_the_whole_pipeline_against_the_instant_server_and_prints_requests_per_second()
    {
        var result = CliRunner.Run("benchmark", "synth", "--examples", "200", "--concurrency", "64");
        Assert.True(result.ExitCode == 0, result.Stderr);
        // 200 rows over all six groups: one brainstorm per 60 expected rows of each asymmetric group (short-long expects 66: two)
        Assert.Matches(new Regex(@"^synth benchmark: 205 requests \(200 rows, 5 brainstorms\) at concurrency 64 in \d+\.\d\d s = \d+\.\d requests/s\n$"), result.Stdout);
    }

    [Fact]
    public void Every_benchmark_synth_option_has_a_description()
    {
        var help = CliRunner.Run("benchmark", "synth", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var option in new[] { "--examples", "--concurrency", "--groups" })
            Assert.Matches(new Regex($@"{option} <\w+>\s+\w+ \w+"), help.Stdout);
    }
}
