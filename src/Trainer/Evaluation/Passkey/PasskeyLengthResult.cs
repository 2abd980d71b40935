namespace Trainer.Evaluation.Passkey;

/// <summary>One length of one run: where the passkey sentence sat, how many queries found their document, and how long it took.</summary>
/// <param name="KeyStart">Index of the passkey sentence's first token (<see cref="PasskeySet.KeyStart"/>).</param>
/// <param name="Hits">Queries whose own document scored strictly highest (<see cref="PasskeyScoring"/>).</param>
/// <param name="DistinctWinners">How many different documents ranked first over the queries (ties left out): 1 when every query ranks alike.</param>
/// <param name="Seconds">Embedding the documents and the queries.</param>
public sealed record PasskeyLengthResult(int Length, int KeyStart, int Candidates, int Hits, int DistinctWinners, double Seconds)
{
    public double Accuracy => (double)Hits / Candidates;
}
