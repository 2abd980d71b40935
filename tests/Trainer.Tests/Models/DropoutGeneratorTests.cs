using System.Text.Json.Nodes;
using TorchSharp;
using Trainer.Checkpointing;
using Trainer.Models.Lora;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Models;

public class DropoutGeneratorTests
{
    [Fact]
    public void TorchSharp_makes_a_cpu_generator_whatever_device_it_is_asked_for()
    {
        // The root of the CUDA dropout crash (docs/cuda.md): THSGenerator_new ignores the device. A generator "for cuda"
        // has the CPU mt19937 state (5056 bytes), bitwise that of a CPU generator with the same seed; libtorch's CUDA
        // kernels refuse such a generator. If a TorchSharp upgrade changes this, this test says so.
        using var forCuda = new Generator(0, new Device(DeviceType.CUDA, 0));
        using var cpu = new Generator(0);
        using var a = forCuda.get_state();
        using var b = cpu.get_state();
        Assert.Equal(5056, a.bytes.Length);
        Assert.Equal(b.bytes.ToArray(), a.bytes.ToArray());
    }

    [Fact]
    public void Sub_seeds_are_the_splitmix64_stream_of_the_seed()
    {
        // splitmix64's published outputs for seed 0 (Vigna's reference implementation).
        Assert.Equal(0xE220A8397B1DCDAFUL, DropoutGenerator.SubSeed(0, 0));
        Assert.Equal(0x6E789E6AA1B965F4UL, DropoutGenerator.SubSeed(0, 1));
        Assert.Equal(0x06C45D188009454FUL, DropoutGenerator.SubSeed(0, 2));
    }

    [Fact]
    public void A_mask_is_a_function_of_seed_and_counter_and_the_state_replays_it()
    {
        using var generator = new DropoutGenerator();
        generator.ManualSeed(42);
        using var first = generator.KeepMask([64, 1000], 0.1, CPU);
        var afterFirst = generator.GetState();
        Assert.Equal(DropoutGenerator.StateSize, afterFirst.Length);
        Assert.Equal(1UL, generator.Counter);
        using var second = generator.KeepMask([64, 1000], 0.1, CPU);
        Assert.False(Same(first, second)); // a new draw, a new mask

        generator.SetState(afterFirst);
        using var replayed = generator.KeepMask([64, 1000], 0.1, CPU);
        Assert.True(Same(second, replayed));

        using var other = new DropoutGenerator();
        other.ManualSeed(42);
        using var sameSeed = other.KeepMask([64, 1000], 0.1, CPU);
        Assert.True(Same(first, sameSeed));
        other.ManualSeed(43);
        using var otherSeed = other.KeepMask([64, 1000], 0.1, CPU);
        Assert.False(Same(first, otherSeed));

        double kept = first.to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(kept, 0.89, 0.91); // 64,000 draws: 1 - p within 1 % (about 8 standard deviations)
    }

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Fact]
    public void A_state_of_another_size_is_refused_naming_its_source()
    {
        using var generator = new DropoutGenerator();
        var e = Assert.Throws<InvalidDataException>(() => generator.SetState(new byte[5056], "ckpt/trainer_state.json: dropout_rng_states[0]"));
        Assert.StartsWith("ckpt/trainer_state.json: dropout_rng_states[0] holds 5056 bytes; a dropout generator state is 16 bytes (seed, counter): it was written by an earlier trainer version", e.Message);
        Assert.Contains("lora.init_adapter", e.Message);
        Assert.Throws<InvalidDataException>(() => generator.SetState(new byte[8]));
        Assert.Contains("is not base64", Assert.Throws<InvalidDataException>(() => DropoutGenerator.ParseState("not base64!", "x")).Message);
    }

    [Fact]
    public void Resuming_a_checkpoint_of_the_earlier_format_fails_with_one_line_naming_the_file()
    {
        var dir = TestPaths.TempDir("old-format");
        new TrainingRun(TrainingFixture.Config(dir, "training.max_steps=3"), new TrainOptions(), TextWriter.Null).Run();
        var checkpoint = Path.Combine(dir, "checkpoint-3");
        // What the previous version stored: a TorchSharp CPU generator's state (mt19937, 5056 bytes), with a matching manifest.
        using var old = new Generator(7);
        using var oldState = old.get_state();
        var stateFile = Path.Combine(checkpoint, TrainingState.FileName);
        var json = JsonNode.Parse(File.ReadAllText(stateFile))!;
        json["dropout_rng_states"] = new JsonArray(Convert.ToBase64String(oldState.bytes.ToArray()));
        File.WriteAllText(stateFile, json.ToJsonString());
        CheckpointManifest.Write(checkpoint);
        Assert.Null(CheckpointStore.Validate(checkpoint)); // a valid checkpoint (export still reads it); only resume refuses it

        var e = Assert.Throws<InvalidDataException>(() =>
            new TrainingRun(TrainingFixture.Config(dir, "training.max_steps=6"), new TrainOptions { Resume = true }, TextWriter.Null).Run());
        Assert.StartsWith($"{stateFile}: dropout_rng_states[0] holds 5056 bytes", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
