using System.Runtime.InteropServices;

namespace Trainer.Export;

/// <summary>
/// The ONNX files of an export in the two places readers look for them: <c>model.onnx</c> (and <c>model.onnx_data</c>)
/// at the root, for ONNX Runtime users and <c>trainer</c> itself, and the same files under <c>onnx/</c>, the Optimum
/// layout that transformers.js, sentence-transformers' ONNX backend and text-embeddings-inference read. The model
/// names its external data by a path relative to itself (<c>model.onnx_data</c>), so each folder has the data file
/// beside its model. The <c>onnx/</c> entries are hard links to the root files, so the weights are on disk once;
/// where the file system refuses a hard link they are copies (and the log says so).
/// </summary>
public static class OnnxFolder
{
    public const string Name = "onnx";

    /// <summary>Links (or copies) the root ONNX files of <paramref name="dir"/> into <c>dir/onnx/</c>; returns "hard links" or "copies".</summary>
    public static string Mirror(string dir, bool external)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, Name)).FullName;
        var files = external ? new[] { ExportJob.OnnxFile, ExportJob.OnnxDataFile } : [ExportJob.OnnxFile];
        bool linked = true;
        foreach (var file in files) linked &= LinkOrCopy(Path.Combine(dir, file), Path.Combine(folder, file));
        return linked ? "hard links" : "copies";
    }

    /// <summary>A hard link at <paramref name="link"/> to <paramref name="existing"/>, else a copy; true when linked.</summary>
    public static bool LinkOrCopy(string existing, string link)
    {
        bool linked = OperatingSystem.IsWindows() ? Native.CreateHardLinkW(link, existing, IntPtr.Zero) : Native.link(existing, link) == 0;
        if (!linked) File.Copy(existing, link, overwrite: true);
        return linked;
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string link);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool CreateHardLinkW(string link, string existing, IntPtr securityAttributes);
    }
}
