using System.Text;
using Trainer.Models;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

/// <summary>Hand-written safetensors files whose headers are malformed or lie about their data (issue #8, point 7).</summary>
public class SafetensorsValidationTests
{
    /// <summary>An 8-byte length, the header JSON, then <paramref name="data"/> as the data section.</summary>
    private static string WriteFile(string header, byte[] data)
    {
        var path = Path.Combine(TestPaths.TempDir("safetensors"), "model.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((long)json.Length));
        stream.Write(json);
        stream.Write(data);
        return path;
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Theory]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}""", "has data_offsets [-8, 0]; they must satisfy 0 ≤ begin ≤ end ≤ 16 (the data section's length)")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}""", "has data_offsets [8, 0]; they must satisfy 0 ≤ begin ≤ end ≤ 16 (the data section's length)")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}""", "has data_offsets [0, 32]; they must satisfy 0 ≤ begin ≤ end ≤ 16 (the data section's length)")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}""", "has data_offsets [0, 8] (8 bytes), but shape [3] of F32 needs 12 bytes")]
    [InlineData("""{"w": {"dtype": "F32", "data_offsets": [0, 8]}}""", "needs \"shape\" as an array of integers")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2, -2], "data_offsets": [0, 8]}}""", "has shape [2, -2]; dimensions must be ≥ 0")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}""", "needs \"shape\" as an array of integers")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}""", "needs \"data_offsets\" as two integers [begin, end]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]}}""", "needs \"data_offsets\" as two integers [begin, end]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8.5]}}""", "needs \"data_offsets\" as two integers [begin, end]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": "0-8"}}""", "needs \"data_offsets\" as two integers [begin, end]")]
    [InlineData("""{"w": [0, 8]}""", "must be an object with dtype, shape and data_offsets, not Array")]
    [InlineData("""{"w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}}""", "needs \"dtype\" as a string")]
    [InlineData("""{"w": {"shape": [2], "data_offsets": [0, 8]}}""", "needs \"dtype\" as a string")]
    [InlineData("""{"w": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}""", "has dtype 'U8'; supported: F32, F16, BF16, F64, I64, I32")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}""", "has shape [4611686018427387904, 4], whose byte length overflows a 64-bit integer")]
    public void Malformed_entry_names_the_file_and_the_tensor(string header, string problem)
    {
        var path = WriteFile(header, new byte[16]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsHeader.Read(path));
        Assert.Equal($"{path}: tensor 'w' {problem}.", e.Message);
    }

    [Fact]
    public void Overlapping_ranges_are_refused_naming_both_tensors()
    {
        var path = WriteFile("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", new byte[12]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsHeader.Read(path));
        Assert.Equal($"{path}: tensors 'a' [0, 8) and 'b' [4, 12) overlap in the data section.", e.Message);
    }

    [Theory]
    [InlineData("""[1, 2]""", "the safetensors header must be a JSON object, not Array")]
    [InlineData("""{"w": {"dtype": "F32", """, "the safetensors header is not valid JSON")]
    [InlineData("""{"__metadata__": {"format": 1}}""", "\"__metadata__\".\"format\" must be a string, not Number")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", "tensor 'w' appears twice in the header")]
    public void Malformed_header_names_the_file(string header, string problem)
    {
        var path = WriteFile(header, new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsHeader.Read(path));
        Assert.StartsWith($"{path}: {problem}", e.Message);
    }

    [Fact]
    public void Valid_header_with_gaps_and_empty_tensors_reads_the_right_bytes()
    {
        // b starts after a 4-byte gap; e is empty and sits at the end; i is an int64 read as int64.
        var data = Floats(1.5f, -2f, 99f, 3.25f).Concat(BitConverter.GetBytes(7L)).ToArray();
        var path = WriteFile("""
            {"__metadata__": {"format": "pt"},
             "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [1, 1], "data_offsets": [12, 16]},
             "i": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]},
             "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [24, 24]}}
            """, data);
        using var reader = new SafetensorsReader(path);
        Assert.Equal("pt", reader.Header.Metadata["format"]);
        using var a = reader.Read("a");
        using var b = reader.Read("b");
        using var i = reader.Read("i");
        using var e = reader.Read("e");
        Assert.Equal([1.5f, -2f], a.data<float>().ToArray());
        Assert.Equal([3.25f], b.data<float>().ToArray());
        Assert.Equal([7L], i.data<long>().ToArray());
        Assert.Equal([0L, 3L], e.shape);
    }

    [Fact]
    public void Integer_tensor_is_refused_for_a_float_destination()
    {
        var path = WriteFile("""{"w": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}""", BitConverter.GetBytes(1).Concat(BitConverter.GetBytes(2)).ToArray());
        using var reader = new SafetensorsReader(path);
        using var destination = zeros(2);
        var e = Assert.Throws<InvalidDataException>(() => reader.CopyInto("w", destination));
        Assert.Equal($"{path}: tensor 'w' is stored as I32; a floating-point parameter loads only from F32, F16, BF16, F64.", e.Message);
        Assert.Equal([0f, 0f], destination.data<float>().ToArray());
        using var ints = reader.Read("w"); // its own dtype is fine
        Assert.Equal([1, 2], ints.data<int>().ToArray());
        var missing = Assert.Throws<InvalidDataException>(() => reader.Read("absent"));
        Assert.Equal($"{path}: no tensor 'absent' in this file.", missing.Message);
    }

    [Fact]
    public void Model_weights_stored_as_integers_are_refused_before_loading()
    {
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "int-weights", ScalarType.Int32);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir, ScalarType.Float32));
        Assert.Equal($"{Path.Combine(dir, "model.safetensors")}: tensor 'embed_tokens.weight' is stored as I32; model weights must be one of F32, F16, BF16, F64.", e.Message);
    }

    [Fact]
    public void Shard_index_naming_a_tensor_its_file_lacks_is_refused()
    {
        var dir = WeightCopies.Write(TestPaths.TinyMistral, "bad-index", ScalarType.Float32, maxShardBytes: 600_000);
        var indexPath = Path.Combine(dir, WeightFiles.IndexFile);
        var index = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(indexPath))!;
        var map = index["weight_map"]!.AsObject();
        string first = map["embed_tokens.weight"]!.GetValue<string>(), other = map["norm.weight"]!.GetValue<string>();
        Assert.NotEqual(first, other);
        map["norm.weight"] = first;
        File.WriteAllText(indexPath, index.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => WeightFiles.Find(dir));
        Assert.Equal($"{indexPath} lists tensor 'norm.weight' in {Path.Combine(dir, first)}, whose header has no such tensor.", e.Message);
    }
}
