using Trainer.Tests.Training;
using Trainer.Training;

namespace Trainer.Tests.Cli;

/// <summary>On a CPU-only build, asking for CUDA says that CUDA is missing, under the key the user wrote.</summary>
public class DeviceMessageTests
{
    [Fact]
    public void Embed_on_cuda_in_a_cpu_build_says_cuda_is_not_available()
    {
        Assert.False(TorchSharp.torch.cuda.is_available()); // the CI build is TorchSharp-cpu
        var input = Path.Combine(TestPaths.TempDir("device"), "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hello\"}\n");
        var result = CliRunner.Run("embed", "--model", TestPaths.TinyMistral, "--input", input, "--output", input + ".out", "--device", "cuda");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--device = 'cuda': CUDA is not available in this build", result.Stderr);
        var bad = CliRunner.Run("embed", "--model", TestPaths.TinyMistral, "--input", input, "--output", input + ".out", "--device", "gpu");
        Assert.Contains("--device = 'gpu' is invalid; expected cpu, cuda or cuda:N.", bad.Stderr);
    }

    [Theory]
    [InlineData("training.device=cuda", "training.device = 'cuda': CUDA is not available")]
    [InlineData("training.devices=[cpu, cuda:1]", "training.devices = 'cuda:1': CUDA is not available")]
    public void Train_on_cuda_in_a_cpu_build_names_the_key_that_was_set(string set, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainingRun(TrainingFixture.Config(TestPaths.TempDir("device-train"), set), new TrainOptions(), TextWriter.Null).Run());
        Assert.Contains(expected, e.Message);
    }
}
