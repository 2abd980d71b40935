using System.Globalization;
using Trainer.Synthesis;

namespace Trainer.Benchmarks;

/// <summary>
/// <c>trainer benchmark synth</c>: the synth pipeline's own speed, measured against <see cref="FakeChatServer"/> in
/// the same process (it answers at once, so the figure is the client, parsing and store overhead, not a model's):
/// a fresh folder, <c>--examples</c> rows of the chosen groups at <c>--concurrency</c>, requests per second of the run.
/// </summary>
public static class SynthBenchmark
{
    public static async Task<SynthReport> RunAsync(int examples, int concurrency, IReadOnlyList<SynthGroup> groups, TextWriter output)
    {
        await using var server = await FakeChatServer.StartAsync();
        var folder = Path.Combine(Path.GetTempPath(), $"trainer-synth-benchmark-{Environment.ProcessId}");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        try
        {
            var options = new SynthOptions(server.BaseUrl, "fake", folder, examples) { Concurrency = concurrency, Groups = groups, ProgressInterval = TimeSpan.FromSeconds(5) };
            var report = await SynthRunner.RunAsync(options, apiKey: null, TextWriter.Null);
            var s = report.Session;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"synth benchmark: {s.Requests} requests ({report.Rows} rows, {report.Brainstorms} brainstorms) at concurrency {concurrency} in {s.Seconds:0.00} s = {s.RequestsPerSecond:0.0} requests/s"));
            return report;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
