namespace KvmLab.Cli;

/// <summary>The table of sub-commands.</summary>
internal static class Commands
{
    public static int Dispatch(string[] args)
    {
        Console.Error.WriteLine("usage: kvmlab <command> [options]   (commands arrive with the run loop)");
        return 2;
    }
}
