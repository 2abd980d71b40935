using Trainer.Parallel;
using static TorchSharp.torch;

namespace Trainer.Tests.Parallel;

/// <summary>The adapter checksum is SHA-256 of the parameters' bytes in order: against Python's hashlib, and sensitive to one ulp.</summary>
public class AdapterConsistencyTests
{
    // python3: hashlib.sha256(struct.pack('<3f', 1.0, -2.5, 0.1) + struct.pack('<2f', 3.0, 1e-8)).hexdigest()[:16]
    private const string Golden = "93215382bfd12a8d";

    [Fact]
    public void The_checksum_is_sha256_of_the_parameters_bytes_in_order()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1.0f, -2.5f, 0.1f });
        var b = tensor(new float[] { 3.0f, 1e-8f }).reshape(2, 1).t(); // not contiguous: hashed as its values in order
        Assert.Equal(Golden, AdapterConsistency.Checksum([a, b]));
        Assert.NotEqual(Golden, AdapterConsistency.Checksum([b, a]));
        var nudged = a.clone();
        nudged[1] = tensor(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(-2.5f) + 1)); // one ulp
        Assert.Equal("cb570083a417e7dc", AdapterConsistency.Checksum([nudged, b])); // hashlib, the same bytes
        AdapterConsistency.Verify(SingleProcess.Instance, [a, b], 3); // one process: nothing to compare
    }
}
