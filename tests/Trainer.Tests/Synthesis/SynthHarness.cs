using System.Text.Json;
using Trainer.Benchmarks;
using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

/// <summary>Options for runs against <see cref="FakeChatServer"/>: one request at a time (so a script is answered in order), sts only, fast retries.</summary>
public static class SynthHarness
{
    public static SynthOptions Options(FakeChatServer server, string folder, int examples) => new(server.BaseUrl, "fake-model", folder, examples)
    {
        Groups = [SynthGroup.Sts],
        Concurrency = 1,
        Retry = new RetryPolicy(MaxAttempts: 6, InitialDelaySeconds: 0.01, MaxDelaySeconds: 0.05),
        RequestTimeout = TimeSpan.FromSeconds(20),
        ProgressInterval = TimeSpan.FromHours(1),
    };

    public static Task<SynthReport> Run(SynthOptions options, string? apiKey = null, TextWriter? log = null) => SynthRunner.RunAsync(options, apiKey, log ?? TextWriter.Null);

    public static List<JsonElement> Lines(string folder, string file) =>
        File.ReadAllLines(Path.Combine(folder, file)).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>The seeds of the chat requests the server received (each request of a run has its own).</summary>
    public static List<int> Seeds(FakeChatServer server) => server.Received.Select(r => r.Body.GetProperty("seed").GetInt32()).ToList();

    public static string Sts(string s1, string s2, string s3) => JsonSerializer.Serialize(new { S1 = s1, S2 = s2, S3 = s3 });
}
