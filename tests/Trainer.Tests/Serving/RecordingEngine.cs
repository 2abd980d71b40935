using Trainer.Serving;

namespace Trainer.Tests.Serving;

/// <summary>
/// A stand-in model for batcher tests: it records each batch's rows and answers each row with [first id, length], so a
/// test sees which batch every input ran in and that its vector came back to it. It can hold a call until released,
/// and fails any batch holding <see cref="FailId"/>.
/// </summary>
public sealed class RecordingEngine : IEmbeddingEngine
{
    public const int FailId = 666;
    private readonly List<int[][]> _batches = [];
    private readonly SemaphoreSlim _entered = new(0);

    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    public string Description => "recording";

    public int Dimensions => 2;

    public IReadOnlyList<int[][]> Batches
    {
        get
        {
            lock (_batches) return _batches.ToList();
        }
    }

    /// <summary>Waits until the engine has been called (once more than before).</summary>
    public bool WaitEntered(TimeSpan timeout) => _entered.Wait(timeout);

    public float[][] Embed(IReadOnlyList<int[]> rows)
    {
        lock (_batches) _batches.Add(rows.ToArray());
        _entered.Release();
        Gate.Wait(TimeSpan.FromMinutes(1));
        if (rows.Any(r => r.Contains(FailId))) throw new InvalidOperationException("the model failed");
        return rows.Select(r => new float[] { r[0], r.Length }).ToArray();
    }

    public void Dispose()
    {
        Gate.Dispose();
        _entered.Dispose();
    }
}
