using System.Runtime.InteropServices;

namespace Trainer.Parallel;

/// <summary>
/// Environment variables that native libraries read. <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// changes only .NET's own copy of the environment, which <c>getenv</c> in native code never sees; libc's
/// <c>setenv</c> changes the process's.
/// </summary>
public static partial class NativeEnvironment
{
    /// <summary>Sets <paramref name="name"/> for native code (and for .NET) unless it is already set.</summary>
    public static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        if (SetEnv(name, value, 0) != 0) throw new InvalidOperationException($"setenv({name}) failed (errno {Marshal.GetLastPInvokeError()}).");
        Environment.SetEnvironmentVariable(name, value);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
