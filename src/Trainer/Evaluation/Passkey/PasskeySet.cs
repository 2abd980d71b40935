namespace Trainer.Evaluation.Passkey;

/// <summary>
/// The candidates of one length: every document is <see cref="Length"/> ids long and they differ only in the
/// <see cref="KeyLength"/> ids from <see cref="KeyStart"/> on, the passkey sentence, which names a different person with
/// a different passkey. Query i asks for candidate i's passkey; document i is the one that answers it.
/// </summary>
/// <param name="KeyStart">Index of the passkey sentence's first id in each document (the prefix tokens count).</param>
public sealed record PasskeySet(int Length, int KeyStart, int KeyLength, IReadOnlyList<PasskeyCandidate> Candidates)
{
    /// <summary>Where the passkey sentence starts, as a fraction of the document (0: at the front).</summary>
    public double Depth => (double)KeyStart / Length;
}
