using System.Diagnostics;

namespace KvmLab.Cli.Commands;

/// <summary>
/// In the natively compiled kvmlab, a command that needs the JIT at run time: <c>script</c> (Roslyn compiles the script
/// into IL and runs it) and <c>bench</c> (it measures the JIT-compiled build as well). It runs
/// <c>dotnet KvmLab.Cli.dll COMMAND ARGS</c> from the directory of the native binary, with this process's standard
/// streams, and returns its exit code; everything else runs natively.
/// </summary>
internal sealed class JitHostCommand(string name, string summary) : ICommand
{
    public string Name => name;

    public string Summary => summary;

    public string Help => $"kvmlab {name} runs in the JIT-compiled kvmlab (KvmLab.Cli.dll beside this native binary): see 'kvmlab {name} --help' there.";

    public int Run(IReadOnlyList<string> args) => Forward(args);

    /// <summary>Runs the command in the JIT-compiled kvmlab and returns its exit code.</summary>
    public int Forward(IReadOnlyList<string> args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "KvmLab.Cli.dll");
        if (!File.Exists(dll))
        {
            Console.Error.WriteLine($"kvmlab {name}: this native kvmlab hands '{name}' to the JIT-compiled kvmlab, and {dll} is missing. " +
                                    "Publish both with tools/publish-native, or use the dotnet tool (dotnet tool install KvmLab.Cli).");
            return CommandTable.HostError;
        }
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet") { UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(name);
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"kvmlab {name}: could not start '{start.FileName}' for the JIT-compiled kvmlab ({e.Message}); install the .NET 10 runtime or set DOTNET_HOST_PATH.");
            return CommandTable.HostError;
        }
    }
}
