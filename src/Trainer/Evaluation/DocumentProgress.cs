using System.Diagnostics;

namespace Trainer.Evaluation;

/// <summary>
/// Progress of embedding a corpus visited shortest first: documents done, documents per second and an ETA, at most
/// every 2 seconds. The ETA extrapolates by tokens (the time per token so far × the tokens left), because the later
/// documents are the longer ones and a count-based estimate would be too short.
/// </summary>
internal sealed class DocumentProgress(string split, long[] tokensInOrder, TextWriter? log)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly long[] _tokensBefore = Prefix(tokensInOrder);
    private TimeSpan _lastReport = TimeSpan.Zero;

    /// <summary>Reports that the first <paramref name="done"/> documents (in visiting order) are embedded.</summary>
    public void Report(int done)
    {
        if (log is null || (_clock.Elapsed - _lastReport).TotalSeconds < 2) return;
        _lastReport = _clock.Elapsed;
        log.WriteLine(Line(done, withEta: true));
    }

    /// <summary>Writes the final line and returns the seconds spent.</summary>
    public double Finish()
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        log?.WriteLine(Line(tokensInOrder.Length, withEta: false));
        return seconds;
    }

    private string Line(int done, bool withEta)
    {
        double seconds = _clock.Elapsed.TotalSeconds, rate = done / Math.Max(seconds, 1e-9);
        int total = tokensInOrder.Length;
        var text = $"eval {split}: documents {done}/{total} ({100.0 * done / Math.Max(total, 1):F1}%), {rate:F1} docs/s, {seconds:F1} s";
        if (!withEta) return text;
        long tokensDone = _tokensBefore[done], tokensLeft = _tokensBefore[total] - tokensDone;
        return tokensDone == 0 ? text + ", ETA estimating" : text + $", ETA {seconds * tokensLeft / tokensDone:F0} s";
    }

    private static long[] Prefix(long[] values)
    {
        var sums = new long[values.Length + 1];
        for (int i = 0; i < values.Length; i++) sums[i + 1] = sums[i] + values[i];
        return sums;
    }
}
