using System.Diagnostics;
using Trainer.Checkpointing;
using Trainer.Export;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Export;

/// <summary>
/// An export is written beside its output and renamed into place when complete and verified: a non-empty output
/// needs <c>--overwrite</c>, which replaces only an earlier export, stale files of that export never survive, and a
/// killed export leaves the previous output untouched.
/// </summary>
public class ExportFolderTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private ExportResult Export(string output, bool overwrite, params string[] formats) =>
        ExportJob.Run(new ExportOptions(trained.Path, formats, output) { Overwrite = overwrite }, TextWriter.Null);

    private static Dictionary<string, byte[]> Contents(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void A_non_empty_output_needs_overwrite_and_overwrite_replaces_only_an_earlier_export()
    {
        var output = TestPaths.TempDir("export-occupied");
        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");
        var e = Assert.Throws<InvalidOperationException>(() => Export(output, overwrite: false, "safetensors"));
        Assert.Contains($"--output {output} is not empty. Use --overwrite", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => Export(output, overwrite: true, "safetensors"));
        Assert.Contains("no .trainer-export marker, so it is not a folder that trainer export wrote", e.Message);

        // The base model folder has export-like names (config.json, model.safetensors): still not replaceable.
        e = Assert.Throws<InvalidOperationException>(() => Export(TestPaths.TinyMistral, overwrite: true, "safetensors"));
        Assert.Contains("--overwrite refused", e.Message);
        Assert.True(File.Exists(Path.Combine(TestPaths.TinyMistral, "model.safetensors")));
        Assert.Equal(["notes.txt"], OutputFolder.Entries(output));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.tmp-export-*"));
    }

    [Fact]
    public void Overwriting_an_export_leaves_none_of_its_stale_files()
    {
        var output = Path.Combine(TestPaths.TempDir("export-stale"), "model");
        var first = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], output) { ExternalData = true }, TextWriter.Null);
        Assert.True(first.Passed);
        Assert.Contains("onnx", OutputFolder.Entries(output));
        Assert.Null(OutputFolder.WhyNotReplaceableExport(output));
        File.WriteAllText(Path.Combine(output, "model.safetensors.index.json"), """{"weight_map": {}}"""); // a stale shard index
        var second = Export(output, overwrite: true, "safetensors");
        Assert.Equal(output, second.OutputDir);
        Assert.Equal([".trainer-export", "1_Pooling", "README.md", "config.json", "config_sentence_transformers.json", "embedding_config.json",
                      "model.safetensors", "modules.json", "sentence_bert_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model",
                      "tokenizer_config.json"], OutputFolder.Entries(output));
        Assert.Null(OutputFolder.WhyNotReplaceableExport(output)); // every entry an export writes is on the export list

        // The folder embeds as base + adapter, not as the base model the stale index could have pointed to.
        var merged = Contents(output)["model.safetensors"];
        var reference = Export(Path.Combine(TestPaths.TempDir("export-fresh"), "model"), overwrite: false, "safetensors");
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference.OutputDir, "model.safetensors")), merged);
    }

    [Fact]
    public void A_killed_export_leaves_the_previous_output_whole_and_a_rerun_completes()
    {
        var parent = TestPaths.TempDir("export-kill");
        var output = Path.Combine(parent, "model");
        Export(output, overwrite: false, "safetensors", "onnx");
        var before = Contents(output);

        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "trainer.dll"), "export", "--checkpoint", trained.Path, "--format", "onnx", "--format", "safetensors", "--output", output, "--overwrite" })
            info.ArgumentList.Add(a);
        using (var export = Process.Start(info)!)
        {
            var staging = Path.Combine(parent, $".model.tmp-export-{export.Id}");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(staging, "config.json")) && !export.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
            Assert.False(export.HasExited, "the export finished before it could be killed");
            export.Kill(); // SIGKILL, part-way through writing
            export.WaitForExit();
            Assert.True(Directory.Exists(staging));
        }
        Assert.Equal(before, Contents(output)); // untouched: old and complete

        var rerun = CliRunner.Run("export", "--checkpoint", trained.Path, "--format", "onnx", "--format", "safetensors", "--output", output, "--overwrite");
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Empty(Directory.GetDirectories(parent, ".model.tmp-export-*")); // the killed export's staging folder was removed
        Assert.Equal(before.Keys.Order(), Contents(output).Keys.Order());
        Assert.Equal(before["model.safetensors"], Contents(output)["model.safetensors"]);
        Assert.Equal(before["model.onnx"], Contents(output)["model.onnx"]);
    }
}
