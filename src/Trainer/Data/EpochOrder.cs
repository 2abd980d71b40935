namespace Trainer.Data;

/// <summary>The order rows are visited in an epoch: a seeded Fisher–Yates shuffle per epoch, or file order.</summary>
public static class EpochOrder
{
    public static int[] For(int count, int seed, int epoch, bool shuffle)
    {
        var order = Enumerable.Range(0, count).ToArray();
        if (!shuffle) return order;
        var random = new Random((int)(DeterministicHash.Mix(seed, epoch) & int.MaxValue));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
