using System.Security.Cryptography;
using System.Text;

namespace Trainer.Synthesis;

/// <summary>Short stable hashes: template versions, request ids, per-request seeds.</summary>
public static class Hashing
{
    /// <summary>The first 16 hex digits of the text's SHA-256.</summary>
    public static string Short(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    /// <summary>A non-negative 31-bit integer from the text's SHA-256 (the seeds sent to servers and given to <see cref="Random"/>).</summary>
    public static int Seed(string text) => (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0) & 0x7fffffff);
}
