namespace Trainer.Tests.Models;

/// <summary>Rows of token ids for padded batches: one row per length, ids drawn from [3, vocab) by a seeded <see cref="Random"/>.</summary>
internal static class RandomRows
{
    public static List<int[]> Of(int seed, int vocab, params int[] lengths)
    {
        var random = new Random(seed);
        return lengths.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(3, vocab)).ToArray()).ToList();
    }
}
