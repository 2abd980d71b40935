using System.Text;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>Small host values sent through an <see cref="ICommunicator"/>: strings and byte arrays.</summary>
public static class Collectives
{
    /// <summary>Rank <paramref name="root"/>'s string (null allowed) on every rank.</summary>
    public static string? BroadcastString(ICommunicator ranks, string? value, int root)
    {
        if (ranks.Size == 1) return value;
        using var length = tensor(new long[] { value is null ? -1 : Encoding.UTF8.GetByteCount(value) });
        ranks.Broadcast(length, root);
        long n = length.item<long>();
        if (n < 0) return null;
        using var bytes = ranks.Rank == root ? tensor(Encoding.UTF8.GetBytes(value!)) : zeros(n, ScalarType.Byte);
        ranks.Broadcast(bytes, root);
        return Encoding.UTF8.GetString(bytes.bytes);
    }

    /// <summary>Every rank's bytes, in rank order, on every rank (the lengths may differ).</summary>
    public static byte[][] AllGatherBytes(ICommunicator ranks, byte[] local)
    {
        if (ranks.Size == 1) return [local];
        using var scope = NewDisposeScope();
        var lengths = ranks.AllGather(tensor(new long[] { local.Length }), Enumerable.Repeat(1L, ranks.Size).ToArray()).data<long>().ToArray();
        var all = ranks.AllGather(tensor(local), lengths).bytes.ToArray();
        var result = new byte[ranks.Size][];
        for (int r = 0, offset = 0; r < ranks.Size; offset += (int)lengths[r], r++) result[r] = all[offset..(offset + (int)lengths[r])];
        return result;
    }
}
