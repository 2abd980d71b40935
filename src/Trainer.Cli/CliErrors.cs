namespace Trainer.Cli;

/// <summary>
/// Turns the library's user-facing exceptions into one line on stderr and exit code 1. I/O failures (a full or
/// read-only disk) are among them: their messages name the path; so is a native library that did not load (MPI, NCCL: the
/// message names the files tried and what to install).
/// </summary>
public static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or Trainer.Config.ConfigException
                                      or ArgumentException or NotSupportedException or InvalidOperationException
                                      or IOException or UnauthorizedAccessException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
