using KvmLab.Guests;
using KvmLab.Qemu;

namespace KvmLab.Cli.Bench;

/// <summary>Process wall times, start to exit, of kvmlab and of QEMU running the same guest.</summary>
/// <param name="KvmLabCommand">The kvmlab command line that was timed.</param>
/// <param name="KvmLabBuild">How the timed kvmlab was compiled: "Debug" or "Release", and whether ReadyToRun.</param>
/// <param name="KvmLab">Milliseconds per repetition, kvmlab as built (default runtime settings).</param>
/// <param name="RuntimeVariants">The same command under other runtime settings (environment variables), for the startup study.</param>
/// <param name="QemuCommand">The QEMU command line that was timed, or null without QEMU.</param>
/// <param name="Qemu">Milliseconds per repetition, or null without QEMU.</param>
internal sealed record StartToHaltResult(string KvmLabCommand, string KvmLabBuild, Samples KvmLab, IReadOnlyList<(string Setting, Samples Milliseconds)> RuntimeVariants,
    string? QemuCommand, Samples? Qemu);

/// <summary>
/// Times a whole <c>kvmlab</c> process booting a guest to its end against <c>qemu-system-x86_64 -accel kvm -bios</c>
/// running the same guest exported as firmware, with the devices a Machine has and no tracing. Repetitions alternate
/// between the two so that load lands on both alike.
/// </summary>
internal static class StartToHaltBenchmark
{
    /// <summary>Runtime settings tried on the kvmlab process: each changes how much JIT work startup does.</summary>
    private static readonly (string Setting, Dictionary<string, string> Environment)[] Variants =
    [
        ("DOTNET_TieredPGO=0", new() { ["DOTNET_TieredPGO"] = "0" }),
        ("DOTNET_TieredCompilation=0", new() { ["DOTNET_TieredCompilation"] = "0" }),
        ("DOTNET_ReadyToRun=0", new() { ["DOTNET_ReadyToRun"] = "0" }),
        ("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", new() { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" }),
    ];

    /// <summary>
    /// Runs <paramref name="repetitions"/> repetitions of each; the runtime variants only when <paramref name="variants"/>.
    /// <paramref name="kvmlabDll"/> names another build of kvmlab to time (e.g. a ReadyToRun publish); default: this one.
    /// </summary>
    public static StartToHaltResult Run(string guest, int repetitions, bool variants, string? kvmlabDll = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var dll = kvmlabDll ?? typeof(StartToHaltBenchmark).Assembly.Location;
        var (dotnet, kvmlabArgs) = KvmLabCommandLine(dll, guest);
        var qemuPath = QemuRunner.TryFindQemu();
        var dir = Directory.CreateTempSubdirectory("kvmlab-bench-qemu-");
        try
        {
            IReadOnlyList<string>? qemuArgs = null;
            if (qemuPath is not null)
            {
                var bios = Path.Combine(dir.FullName, "bios.bin");
                File.WriteAllBytes(bios, GuestExport.ToQemuBios(GuestLibrary.Get(guest).Build()));
                qemuArgs = WithoutTracing(QemuRunner.BuildArguments(bios, Path.Combine(dir.FullName, "serial.out"),
                    Path.Combine(dir.FullName, "unused.log"), new QemuRunOptions()));
            }

            var kvmlab = new Samples();
            var qemu = qemuArgs is null ? null : new Samples();
            var variantSamples = (variants ? Variants : []).Select(v => (v.Setting, new Samples())).ToList();
            // One untimed run each: the first start reads the files from disk, later ones from the page cache.
            TimeKvmLab(dotnet, kvmlabArgs, null);
            if (qemuArgs is not null) TimeQemu(qemuPath!, qemuArgs);
            for (var rep = 0; rep < repetitions; rep++)
            {
                kvmlab.Add(TimeKvmLab(dotnet, kvmlabArgs, null));
                if (qemuArgs is not null) qemu!.Add(TimeQemu(qemuPath!, qemuArgs));
                for (var v = 0; v < variantSamples.Count; v++)
                    variantSamples[v].Item2.Add(TimeKvmLab(dotnet, kvmlabArgs, Variants[v].Environment));
            }
            return new StartToHaltResult($"{dotnet} {string.Join(' ', kvmlabArgs)}", BuildDescription.Of(dll), kvmlab, variantSamples,
                qemuArgs is null ? null : $"{qemuPath} {string.Join(' ', qemuArgs)}", qemu);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary><c>dotnet kvmlab.dll run GUEST</c>: what a user types, timed from process start to the guest's end.</summary>
    private static (string Dotnet, string[] Args) KvmLabCommandLine(string dll, string guest)
    {
        var host = Environment.ProcessPath;
        var dotnet = host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        return (dotnet, [dll, "run", guest]);
    }

    private static double TimeKvmLab(string dotnet, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var (code, output, error, elapsed) = ProcessRunner.Time(dotnet, args, TimeSpan.FromMinutes(1), environment);
        // `kvmlab run` passes the guest's debug-exit status on as QEMU does.
        if (code != 0 && code != (GuestAssembler.ExitSuccess << 1 | 1))
            throw new InvalidOperationException($"kvmlab {string.Join(' ', args.Skip(1))} exited with {code}: {error}{output}");
        return elapsed.TotalMilliseconds;
    }

    private static double TimeQemu(string qemu, IReadOnlyList<string> args)
    {
        var (code, _, error, elapsed) = ProcessRunner.Time(qemu, args, TimeSpan.FromMinutes(1));
        // isa-debug-exit makes QEMU exit with (value << 1) | 1.
        if (code != (GuestAssembler.ExitSuccess << 1 | 1))
            throw new InvalidOperationException($"QEMU exited with {code} instead of {GuestAssembler.ExitSuccess << 1 | 1}: {error}");
        return elapsed.TotalMilliseconds;
    }

    /// <summary>QEMU's command line without the trace log and trace events: this figure times QEMU as people run it.</summary>
    private static List<string> WithoutTracing(IReadOnlyList<string> args)
    {
        var kept = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "-D" or "-trace" or "-msg" && i + 1 < args.Count)
            {
                i++;
                continue;
            }
            kept.Add(args[i]);
        }
        return kept;
    }
}
