namespace Trainer.Data;

/// <summary>SplitMix64 over a few integers: the same numbers on every machine and .NET version (unlike HashCode).</summary>
public static class DeterministicHash
{
    public static ulong Mix(params long[] values)
    {
        ulong h = 0x9E3779B97F4A7C15;
        foreach (var v in values)
        {
            h ^= (ulong)v + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2);
            h = Finalize(h);
        }
        return h;
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
