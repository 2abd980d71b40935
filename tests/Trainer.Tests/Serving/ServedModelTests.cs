using Trainer.Serving;

namespace Trainer.Tests.Serving;

/// <summary>What <c>--model</c> resolves to, where its settings come from, and the options refused before anything loads.</summary>
[Collection(ServingCollection.Name)]
public class ServedModelTests(ServingFixture fixture)
{
    [Fact]
    public void An_export_and_its_checkpoint_bring_their_training_settings_and_options_override_them()
    {
        var export = ServedModel.Resolve(fixture.Options("export"), TextWriter.Null);
        Assert.Equal((24, "Find the abstract", null), (export.MaxInputTokens, export.Instruction, export.AdapterDir));
        Assert.EndsWith("embedding_config.json", export.MaxInputTokensFrom);
        var onnx = ServedModel.Resolve(fixture.Options("export", "onnx"), TextWriter.Null);
        Assert.Equal(Path.Combine(fixture.ExportDir, "model.onnx"), onnx.OnnxPath);

        var checkpoint = ServedModel.Resolve(fixture.Options("checkpoint"), TextWriter.Null);
        Assert.Equal((24, "Find the abstract", fixture.Checkpoint, TestPaths.TinyMistral), (checkpoint.MaxInputTokens, checkpoint.Instruction, checkpoint.AdapterDir, checkpoint.ModelDir));
        Assert.EndsWith("config.yaml", checkpoint.InstructionFrom);
        var outputDir = ServedModel.Resolve(fixture.Options("checkpoint") with { Model = Path.GetDirectoryName(fixture.Checkpoint)! }, TextWriter.Null);
        Assert.Equal(fixture.Checkpoint, outputDir.AdapterDir); // an output_dir stands for its newest valid checkpoint

        var overridden = ServedModel.Resolve(fixture.Options() with { MaxInputTokens = 12, Instruction = "", ModelName = "m" }, TextWriter.Null);
        Assert.Equal((12, "--max-input-tokens", (string?)null, "--instruction", "m"),
            (overridden.MaxInputTokens, overridden.MaxInputTokensFrom, overridden.Instruction, overridden.InstructionFrom, overridden.Name));

        var baseModel = ServedModel.Resolve(new ServeOptions(TestPaths.TinyMistral) { Port = 0 }, TextWriter.Null);
        Assert.Equal((512, (string?)null, "tiny-mistral"), (baseModel.MaxInputTokens, baseModel.Instruction, baseModel.Name));
    }

    public static TheoryData<string, Func<ServingFixture, ServeOptions>, string> BadOptions => new()
    {
        { "checkpoint with onnx", f => f.Options("checkpoint", "onnx"), "is a checkpoint; export it first (trainer export --checkpoint" },
        { "onnx on cuda", f => f.Options("export", "onnx") with { Device = "cuda" }, "--device = 'cuda'" },
        { "onnx with a dtype", f => f.Options("export", "onnx") with { DType = "float16" }, "--dtype = 'float16' does not apply to --engine onnx" },
        { "unknown engine", f => f.Options("export", "tensorrt"), "--engine = 'tensorrt' is invalid; allowed: torch, onnx" },
        { "budget below one input", f => f.Options() with { MaxBatchTokens = 16 }, "--max-batch-tokens = 16 is less than the input limit of 24 tokens" },
        { "port", f => f.Options() with { Port = 70000 }, "--port = 70000 is invalid" },
        { "host", f => f.Options() with { Host = "no-such-host.invalid" }, "--host = 'no-such-host.invalid' does not resolve" },
        { "body budget below one body", f => f.Options() with { MaxRequestBytes = 2000, MaxBodyBytesInFlight = 1000 }, "--max-body-bytes-in-flight = 1000 is less than --max-request-bytes = 2000" },
        { "queue below one batch", f => f.Options() with { MaxQueuedTokens = 100 }, "--max-queued-tokens = 100 is less than --max-batch-tokens = 16384" },
        { "body timeout", f => f.Options() with { BodyTimeoutSeconds = 0 }, "--body-timeout-seconds = 0 is invalid" },
        { "api key", f => f.Options() with { ApiKey = "two words" }, "--api-key is empty or has whitespace" },
        { "cors origin with a path", f => f.Options() with { CorsOrigins = ["http://localhost:5173/app"] }, "--cors-origin 'http://localhost:5173/app' is invalid" },
        { "threads", f => f.Options() with { Threads = 0 }, "--threads = 0 is invalid" },
        { "max inputs", f => f.Options() with { MaxInputs = 0 }, "--max-inputs = 0 is invalid" },
        { "max input tokens", f => f.Options() with { MaxInputTokens = 1 }, "--max-input-tokens = 1 is invalid" },
        { "wait", f => f.Options() with { MaxWaitMs = -1 }, "--max-wait-ms = -1 is invalid" },
        { "instruction", f => f.Options() with { Instruction = "  " }, "--instruction is whitespace only" },
        { "adapter folder", _ => new ServeOptions(Path.Combine(TestPaths.TinyMistral, "lora-adapter")), "is a PEFT adapter folder; serve a checkpoint-<step> folder" },
        { "missing folder", _ => new ServeOptions("/nonexistent/model"), "--model folder not found: /nonexistent/model" },
        { "onnx without model.onnx", _ => new ServeOptions(TestPaths.TinyMistral) { Engine = "onnx" }, "has no model.onnx; export with --format onnx" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_option_or_model_is_refused_with_a_message_naming_it(string what, Func<ServingFixture, ServeOptions> options, string message)
    {
        var error = Assert.ThrowsAny<Exception>(() => ServedModel.Resolve(options(fixture), TextWriter.Null));
        Assert.True(error is ArgumentException or NotSupportedException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException,
            $"{what}: {error.GetType().Name} is not one the CLI reports as `error: ...`");
        Assert.Contains(message, error.Message);
    }
}
