using Trainer.Export;

namespace Trainer.Tests.Export;

public class OnnxFolderTests
{
    [Fact]
    public void The_onnx_folder_entries_are_hard_links_to_the_root_files()
    {
        var dir = TestPaths.TempDir("onnx-folder");
        File.WriteAllText(Path.Combine(dir, ExportJob.OnnxFile), "model");
        File.WriteAllText(Path.Combine(dir, ExportJob.OnnxDataFile), "weights");
        Assert.Equal("hard links", OnnxFolder.Mirror(dir, external: true));
        Assert.Equal("weights", File.ReadAllText(Path.Combine(dir, "onnx", ExportJob.OnnxDataFile)));
        File.AppendAllText(Path.Combine(dir, ExportJob.OnnxDataFile), "!"); // one file on disk: a change shows through both names
        Assert.Equal("weights!", File.ReadAllText(Path.Combine(dir, "onnx", ExportJob.OnnxDataFile)));
        Assert.Equal("model", File.ReadAllText(Path.Combine(dir, "onnx", ExportJob.OnnxFile)));
    }

    [Fact]
    public void Where_no_hard_link_can_be_made_the_file_is_copied()
    {
        var dir = TestPaths.TempDir("onnx-folder-copy");
        var source = Path.Combine(dir, "a");
        File.WriteAllText(source, "x");
        var target = Path.Combine(dir, "b");
        File.WriteAllText(target, "in the way"); // link(2) refuses an existing name
        Assert.False(OnnxFolder.LinkOrCopy(source, target));
        Assert.Equal("x", File.ReadAllText(target));
    }
}
