using KvmLab.Kvm;

namespace KvmLab.Cli.Commands;

/// <summary>The table of sub-commands and the dispatch that turns failures into clear messages and exit codes.</summary>
internal static class CommandTable
{
    /// <summary>Exit code for a command-line mistake.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when the host cannot provide KVM (no /dev/kvm, no permission).</summary>
    public const int HostError = 3;

    /// <summary>Every command, in the order <c>kvmlab --help</c> lists them.</summary>
    public static IReadOnlyList<ICommand> All { get; } = new ICommand[]
    {
        new RunCommand(),
        new StatCommand(),
        new GuestsCommand(),
#if KVMLAB_NATIVE
        new JitHostCommand("script", "run a C# script (.csx) with KvmLab, its guests and charts imported"),
#else
        new ScriptCommand(),
#endif
        new DoctorCommand(),
        new CompareCommand(),
#if KVMLAB_NATIVE
        new JitHostCommand("bench", "measure exit cost, allocation, startup and charts against C and QEMU references"),
#else
        new BenchCommand(),
#endif
        new FuzzCommand(),
    };

    public static int Dispatch(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            if (args.Length > 1 && Find(args[1]) is { } c)
            {
                Console.Out.WriteLine(c.Help);
                return 0;
            }
            PrintOverview(args.Length == 0 ? Console.Error : Console.Out);
            return args.Length == 0 ? UsageError : 0;
        }
        if (args[0] == "--version")
        {
            // Says how this kvmlab was compiled: kvmlab bench finds the native build by it.
            Console.Out.WriteLine($"kvmlab {typeof(CommandTable).Assembly.GetName().Version} ({(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "jit" : "native")})");
            return 0;
        }
        var command = Find(args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"kvmlab: unknown command '{args[0]}'");
            PrintOverview(Console.Error);
            return UsageError;
        }
        var rest = args.Skip(1).ToArray();
#if KVMLAB_NATIVE
        if (command is JitHostCommand jit) return jit.Forward(rest);
#endif
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.Out.WriteLine(command.Help);
            return 0;
        }
        try
        {
            return command.Run(rest);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"kvmlab {command.Name}: {e.Message}");
            Console.Error.WriteLine($"see: kvmlab {command.Name} --help");
            return UsageError;
        }
        catch (KvmException e)
        {
            Console.Error.WriteLine($"kvmlab {command.Name}: {e.Message}");
            Console.Error.WriteLine("run 'kvmlab doctor' to check this host");
            return HostError;
        }
        catch (KvmLab.Tracing.Kernel.KernelTraceUnavailableException e)
        {
            Console.Error.WriteLine($"kvmlab {command.Name}: {e.Message}");
            return HostError;
        }
    }

    private static ICommand? Find(string name) => All.FirstOrDefault(c => c.Name == name);

    private static void PrintOverview(TextWriter w)
    {
        w.WriteLine("kvmlab: boot tiny guests on KVM, trace every exit, compare with QEMU");
        w.WriteLine();
        w.WriteLine("usage: kvmlab <command> [options]     kvmlab <command> --help");
        w.WriteLine();
        foreach (var c in All) w.WriteLine($"  {c.Name,-10} {c.Summary}");
    }
}
