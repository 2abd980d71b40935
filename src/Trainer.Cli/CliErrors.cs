namespace Trainer.Cli;

/// <summary>Turns the library's user-facing exceptions into one line on stderr and exit code 1.</summary>
public static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or Trainer.Config.ConfigException
                                      or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
