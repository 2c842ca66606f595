using KvmLab.Cli.Commands;

namespace KvmLab.Cli;

/// <summary>Entry point of the <c>kvmlab</c> command.</summary>
public static class Program
{
    /// <summary>Dispatches to the sub-command named by the first argument.</summary>
    public static int Main(string[] args)
    {
        StartupProfile.Mark("main");
        return CommandTable.Dispatch(args);
    }
}
