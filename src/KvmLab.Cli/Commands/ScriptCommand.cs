using KvmLab.Scripting;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab script</c>: runs a C# script with KvmLab referenced, as a notebook cell would see it.</summary>
internal sealed class ScriptCommand : ICommand
{
    /// <inheritdoc />
    public string Name => "script";

    /// <inheritdoc />
    public string Summary => "run a C# script (.csx) with KvmLab, its guests and charts imported";

    /// <inheritdoc />
    public string Help =>
        """
        usage: kvmlab script FILE.csx [ARGS...]

        Compiles and runs FILE.csx with KvmLab, KvmLab.Guests and KvmLab.Charts referenced and their namespaces
        imported (plus System.Linq and friends). The script sees its arguments as Args, its own path as ScriptPath
        and ScriptDirectory, and Print(value) writes a line to stdout. Everything after FILE is passed to the script.

        Exit status:
          0   the script ran to the end
          1   it did not compile: each error is printed as FILE:line:col: error CSxxxx: message
          2   it threw: the exception and the script line it came from are printed
          3   the host cannot provide KVM (see kvmlab doctor)

        Example:
          kvmlab script notebooks/scripts/figures.csx out/
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, [], [], stopAtFirstPositional: true);
        if (a.Positionals.Count == 0) throw new UsageException("expected a script file (FILE.csx)");
        var path = a.Positionals[0];
        var result = ScriptHost.RunFileAsync(path, a.Positionals.Skip(1).ToList(), Console.Out).GetAwaiter().GetResult();
        Console.Out.Flush();
        switch (result.Outcome)
        {
            case ScriptOutcome.CompileError:
                foreach (var d in result.Diagnostics) Console.Error.WriteLine(d);
                break;
            case ScriptOutcome.RuntimeError:
                var e = Innermost(result.Exception!);
                if (e is Kvm.KvmException) throw e;
                var where = result.Line > 0 ? $"{Path.GetFullPath(path)}:{result.Line}" : Path.GetFullPath(path);
                Console.Error.WriteLine($"{where}: {e.GetType().Name}: {e.Message}");
                var source = LineText(path, result.Line);
                if (source is not null) Console.Error.WriteLine($"  {result.Line,5} | {source.Trim()}");
                break;
        }
        return result.ExitCode;
    }

    private static Exception Innermost(Exception e) =>
        e is AggregateException or System.Reflection.TargetInvocationException && e.InnerException is not null ? Innermost(e.InnerException!) : e;

    private static string? LineText(string path, int line)
    {
        if (line <= 0) return null;
        var lines = File.ReadAllLines(path);
        return line <= lines.Length ? lines[line - 1] : null;
    }
}
