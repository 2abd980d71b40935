using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using Trainer.Tests.Training;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Checkpointing;

/// <summary>A checkpoint is trusted only when its manifest's checksums hold and its adapter is finite; resume and export skip or refuse the others.</summary>
public class CheckpointStoreTests
{
    private static TrainSummary Train(string outputDir, TrainOptions options, TextWriter? log = null) =>
        new TrainingRun(TrainingFixture.Config(outputDir), options, log ?? TextWriter.Null).Run();

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public void The_manifest_records_every_file_length_and_sha256()
    {
        var dir = TestPaths.TempDir("manifest");
        var checkpoint = Train(dir, new TrainOptions { StopAfterSteps = 3 }).LastCheckpoint!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, CheckpointManifest.FileName)));
        var listed = manifest.RootElement.GetProperty("sha256").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(CheckpointStore.RequiredFiles.Where(f => f != CheckpointManifest.FileName).Order(), listed.Keys.Order());
        foreach (var (name, sha) in listed)
        {
            Assert.Equal(DurableFiles.Sha256(Path.Combine(checkpoint, name)), sha);
            Assert.Equal(new FileInfo(Path.Combine(checkpoint, name)).Length, manifest.RootElement.GetProperty("bytes").GetProperty(name).GetInt64());
        }
        Assert.Empty(Directory.GetDirectories(dir, CheckpointStore.TempPrefix + "*"));
    }

    [Theory]
    [InlineData("truncated", "optimizer.bin is {0} bytes, manifest.json records {1} (truncated or overwritten)")]
    [InlineData("bit-flipped", "optimizer.bin does not match its sha256 in manifest.json (corrupt)")]
    public void A_damaged_optimizer_state_falls_back_to_the_previous_checkpoint(string damage, string reason)
    {
        var dir = TestPaths.TempDir("damaged-" + damage);
        Train(dir, new TrainOptions());
        var newest = Path.Combine(dir, "checkpoint-6");
        var optimizer = Path.Combine(newest, CheckpointStore.OptimizerFile);
        var bytes = File.ReadAllBytes(optimizer);
        if (damage == "truncated") File.WriteAllBytes(optimizer, bytes[..(bytes.Length / 2)]);
        else
        {
            bytes[bytes.Length / 2] ^= 0x10;
            File.WriteAllBytes(optimizer, bytes);
        }
        var expected = string.Format(System.Globalization.CultureInfo.InvariantCulture, reason, bytes.Length / 2, bytes.Length);
        Assert.Equal(expected, CheckpointStore.Validate(newest));

        var log = new StringWriter();
        var summary = Train(dir, new TrainOptions { Resume = true }, log);
        Assert.Contains($"warning: skipping checkpoint {newest}: {expected}", log.ToString());
        Assert.Contains($"resumed from {Path.Combine(dir, "checkpoint-3")} at step 3", log.ToString());
        Assert.Equal((4, 6), (summary.FirstStep, summary.LastStep));
        Assert.Null(CheckpointStore.Validate(newest)); // written again, whole

        File.WriteAllBytes(optimizer, damage == "truncated" ? bytes[..(bytes.Length / 2)] : bytes);
        var e = Assert.Throws<InvalidDataException>(() => Train(dir, new TrainOptions { ResumeFrom = newest }));
        Assert.Equal($"Cannot resume from {newest}: {expected}.", e.Message);
    }

    [Fact]
    public void Save_refuses_a_checkpoint_whose_adapter_is_not_finite()
    {
        var dir = TestPaths.TempDir("save-nan");
        var good = Train(dir, new TrainOptions { StopAfterSteps = 3 }).LastCheckpoint!;
        var e = Assert.Throws<InvalidOperationException>(() => new CheckpointStore(dir).Save(9, temp =>
        {
            foreach (var file in Directory.GetFiles(good).Where(f => Path.GetFileName(f) != CheckpointManifest.FileName))
                File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
            Poison(Path.Combine(temp, PeftAdapter.WeightsFile));
        }));
        Assert.Matches("^checkpoint-9 not written: adapter_model.safetensors: tensor '[^']+lora_B.weight' has 1 non-finite value\\(s\\)", e.Message);
        Assert.Equal(["checkpoint-3"], Directory.GetDirectories(dir).Select(Path.GetFileName).Where(n => n!.Contains("checkpoint", StringComparison.Ordinal)));
    }

    /// <summary>Sets one element of the first lora_B tensor to NaN; returns its key and element count.</summary>
    private static (string Key, long Count) Poison(string weights)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> tensors;
        using (var reader = new SafetensorsReader(weights))
            tensors = reader.Header.Entries.Keys.ToDictionary(k => k, k => reader.Read(k));
        var key = tensors.Keys.Order(StringComparer.Ordinal).First(k => k.EndsWith("lora_B.weight", StringComparison.Ordinal));
        tensors[key][0, 0] = float.NaN;
        SafetensorsWriter.Write(weights, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return (key, tensors[key].numel());
    }

    [Fact]
    public void An_adapter_with_nan_is_rejected_by_validate_skipped_by_resume_and_refused_by_export()
    {
        var dir = TestPaths.TempDir("nan-adapter");
        var good = Train(dir, new TrainOptions { StopAfterSteps = 3 }).LastCheckpoint!;
        var poisoned = Path.Combine(dir, "checkpoint-4");
        CopyDirectory(good, poisoned);
        var (key, count) = Poison(Path.Combine(poisoned, PeftAdapter.WeightsFile));
        CheckpointManifest.Write(poisoned); // sealed as if it had been written so: only the values are wrong
        var expected = $"{PeftAdapter.WeightsFile}: tensor '{key}' has 1 non-finite value(s) (NaN or Inf) of {count}";
        Assert.Equal(expected, CheckpointStore.Validate(poisoned));

        var e = Assert.Throws<InvalidDataException>(() => CheckpointStore.Resolve(poisoned, TextWriter.Null));
        Assert.Equal($"Checkpoint {poisoned} is not usable: {expected}.", e.Message);
        var exportLog = new StringWriter();
        Assert.Equal(good, CheckpointStore.Resolve(dir, exportLog));
        Assert.Contains($"warning: skipping checkpoint {poisoned}: {expected}", exportLog.ToString());

        var log = new StringWriter();
        Train(dir, new TrainOptions { Resume = true }, log);
        Assert.Contains($"warning: skipping checkpoint {poisoned}: {expected}", log.ToString());
        Assert.Contains($"resumed from {good} at step 3", log.ToString());
    }
}
