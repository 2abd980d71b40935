using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>
/// A check, at every checkpoint, that all ranks still hold the same adapter. Nothing keeps them equal but every rank
/// taking the same steps (no broadcast of the weights), so ranks started with different configs, data or builds would
/// drift apart silently, and rank 0's checkpoint would be one of several models. Each rank hashes its trainable
/// parameters' bytes (SHA-256, the first 8 bytes as 16 hex digits: exact, and the same whatever the thread count),
/// the checksums are all-gathered (a few bytes), and rank 0 ends the job with one line when any differs, before the
/// checkpoint is written.
/// </summary>
public static class AdapterConsistency
{
    /// <summary>The parameters' bytes, in order (device tensors through host copies), hashed: 16 hex digits.</summary>
    public static string Checksum(IEnumerable<Tensor> parameters)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            var host = p.detach().cpu().contiguous();
            sha.AppendData(host.bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset(), 0, 8).ToLowerInvariant();
    }

    /// <summary>Every rank's checksum of <paramref name="parameters"/>; throws on rank 0 (the others wait for its abort) when they differ.</summary>
    public static void Verify(ICommunicator ranks, IEnumerable<Tensor> parameters, int step)
    {
        if (ranks.Size == 1) return;
        var all = Collectives.AllGatherBytes(ranks, Encoding.ASCII.GetBytes(Checksum(parameters))).Select(Encoding.ASCII.GetString).ToList();
        int other = all.FindIndex(c => c != all[0]);
        if (other > 0 && ranks.Rank == 0)
            throw new InvalidOperationException($"the ranks' LoRA adapters differ at step {step}: rank 0's checksum {all[0]}, rank {other}'s {all[other]}; " +
                                                "every rank must run the same config, data and trainer build (checkpoint not written).");
    }
}
