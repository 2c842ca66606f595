using KvmLab.Guests;
using KvmLab.Qemu;

namespace KvmLab.Cli.Bench;

/// <summary>Process wall times, start to exit, of kvmlab and of its references running the same guest.</summary>
/// <param name="KvmLabCommand">The JIT-compiled kvmlab command line that was timed.</param>
/// <param name="KvmLabBuild">How the timed kvmlab was compiled: "Debug" or "Release", and whether ReadyToRun.</param>
/// <param name="KvmLab">Milliseconds per repetition, the JIT-compiled kvmlab as built (default runtime settings).</param>
/// <param name="RuntimeVariants">The same command under other runtime settings (environment variables), for the startup study.</param>
/// <param name="QemuCommand">The QEMU -M pc command line that was timed, or null without QEMU.</param>
/// <param name="Qemu">Milliseconds per repetition, or null without QEMU.</param>
/// <param name="NativeCommand">The natively compiled kvmlab's command line (tools/publish-native), or null when none was found.</param>
/// <param name="Native">Its milliseconds per repetition, or null.</param>
/// <param name="MicrovmCommand">The QEMU -M microvm command line, or null without QEMU.</param>
/// <param name="Microvm">Its milliseconds per repetition, or null.</param>
/// <param name="CVmmCommand">The C reference VMM's command line (native/c_vmm.c), or null without gcc.</param>
/// <param name="CVmm">Its milliseconds per repetition, or null.</param>
/// <param name="Phases">For each kvmlab build timed ("jit", "native"): the median milliseconds from launch to the end of
/// each phase of <c>kvmlab run</c> (<see cref="StartupProfile"/>), and "exit" for the whole process.</param>
internal sealed record StartToHaltResult(string KvmLabCommand, string KvmLabBuild, Samples KvmLab, IReadOnlyList<(string Setting, Samples Milliseconds)> RuntimeVariants,
    string? QemuCommand, Samples? Qemu, string? NativeCommand, Samples? Native, string? MicrovmCommand, Samples? Microvm,
    string? CVmmCommand, Samples? CVmm, IReadOnlyDictionary<string, IReadOnlyList<(string Phase, double Milliseconds)>> Phases);

/// <summary>
/// Times whole processes booting a guest to its end: the JIT-compiled kvmlab (<c>dotnet KvmLab.Cli.dll run GUEST</c>),
/// the natively compiled kvmlab when one is found (tools/publish-native), <c>qemu-system-x86_64 -accel kvm</c> with
/// <c>-M pc</c> and with <c>-M microvm</c> running the same guest exported as firmware, and a C VMM that makes the same
/// kernel calls as a Machine (the floor). Repetitions alternate between them so that load lands on all alike. Each
/// kvmlab run also reports when its phases ended (<see cref="StartupProfile"/>): that is where its milliseconds go.
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

    private const string CVmmResource = "c_vmm.c";

    /// <summary>
    /// Runs <paramref name="repetitions"/> repetitions of each; the runtime variants only when <paramref name="variants"/>.
    /// <paramref name="kvmlabDll"/> names another build of kvmlab to time (e.g. a ReadyToRun publish); default: this one.
    /// </summary>
    public static StartToHaltResult Run(string guest, int repetitions, bool variants, string? kvmlabDll = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var dll = kvmlabDll ?? typeof(StartToHaltBenchmark).Assembly.Location;
        var (dotnet, kvmlabArgs) = KvmLabCommandLine(dll, guest);
        var native = FindNativeKvmLab(dll);
        var qemuPath = QemuRunner.TryFindQemu();
        var dir = Directory.CreateTempSubdirectory("kvmlab-bench-start-");
        try
        {
            var image = GuestLibrary.Get(guest).Build();
            IReadOnlyList<string>? qemuArgs = null, microvmArgs = null;
            if (qemuPath is not null)
            {
                var bios = Path.Combine(dir.FullName, "bios.bin");
                File.WriteAllBytes(bios, GuestExport.ToQemuBios(image));
                qemuArgs = WithoutTracing(QemuRunner.BuildArguments(bios, Path.Combine(dir.FullName, "serial.out"),
                    Path.Combine(dir.FullName, "unused.log"), new QemuRunOptions()));
                microvmArgs = MicrovmArguments(bios, Path.Combine(dir.FullName, "serial-microvm.out"));
            }
            var cVmm = BuildCVmm(dir.FullName, image);

            var kvmlab = new Samples();
            var qemu = qemuArgs is null ? null : new Samples();
            var microvm = microvmArgs is null ? null : new Samples();
            var nativeSamples = native is null ? null : new Samples();
            var cVmmSamples = cVmm is null ? null : new Samples();
            var phases = new Dictionary<string, List<IReadOnlyList<(string, double)>>> { ["jit"] = [], ["native"] = [] };
            var variantSamples = (variants ? Variants : []).Select(v => (v.Setting, new Samples())).ToList();
            // One untimed run each: the first start reads the files from disk, later ones from the page cache.
            TimeKvmLab(dotnet, kvmlabArgs, null, null);
            if (native is not null) TimeKvmLab(native, ["run", guest], null, null);
            if (qemuArgs is not null) TimeExpectingSuccess(qemuPath!, qemuArgs);
            if (microvmArgs is not null) TimeExpectingSuccess(qemuPath!, microvmArgs);
            if (cVmm is not null) TimeExpectingSuccess(cVmm.Value.Binary, cVmm.Value.Arguments);
            for (var rep = 0; rep < repetitions; rep++)
            {
                kvmlab.Add(TimeKvmLab(dotnet, kvmlabArgs, null, phases["jit"]));
                if (native is not null) nativeSamples!.Add(TimeKvmLab(native, ["run", guest], null, phases["native"]));
                if (qemuArgs is not null) qemu!.Add(TimeExpectingSuccess(qemuPath!, qemuArgs));
                if (microvmArgs is not null) microvm!.Add(TimeExpectingSuccess(qemuPath!, microvmArgs));
                if (cVmm is not null) cVmmSamples!.Add(TimeExpectingSuccess(cVmm.Value.Binary, cVmm.Value.Arguments));
                for (var v = 0; v < variantSamples.Count; v++)
                    variantSamples[v].Item2.Add(TimeKvmLab(dotnet, kvmlabArgs, Variants[v].Environment, null));
            }
            var medians = phases.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => MedianPhases(p.Value));
            return new StartToHaltResult($"{dotnet} {string.Join(' ', kvmlabArgs)}", BuildDescription.Of(dll), kvmlab, variantSamples,
                qemuArgs is null ? null : $"{qemuPath} {string.Join(' ', qemuArgs)}", qemu,
                native is null ? null : $"{native} run {guest}", nativeSamples,
                microvmArgs is null ? null : $"{qemuPath} {string.Join(' ', microvmArgs)}", microvm,
                cVmm is null ? null : $"c_vmm {string.Join(' ', cVmm.Value.Arguments.Skip(1))}", cVmmSamples, medians);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The natively compiled kvmlab to time: <c>kvmlab</c> beside <paramref name="dll"/> (tools/publish-native puts the
    /// JIT-compiled build there), else artifacts/kvmlab/kvmlab under the current directory; one whose
    /// <c>--version</c> says "(native)".
    /// </summary>
    public static string? FindNativeKvmLab(string dll)
    {
        string[] candidates = [Path.Combine(Path.GetDirectoryName(dll) ?? "", "kvmlab"), Path.GetFullPath(Path.Combine("artifacts", "kvmlab", "kvmlab"))];
        foreach (var candidate in candidates.Distinct())
        {
            if (!File.Exists(candidate)) continue;
            try
            {
                var (code, output, _, _) = ProcessRunner.Time(candidate, ["--version"], TimeSpan.FromSeconds(30));
                if (code == 0 && output.Contains("(native)", StringComparison.Ordinal)) return candidate;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
        return null;
    }

    /// <summary>QEMU's smallest x86 machine (no PCI, no ACPI) with the devices the guest talks to: COM1 and isa-debug-exit.</summary>
    private static List<string> MicrovmArguments(string bios, string serial) =>
    [
        "-M", "microvm", "-accel", "kvm", "-m", "16", "-nodefaults", "-display", "none", "-nic", "none", "-no-reboot",
        "-serial", $"file:{serial}", "-device", $"isa-debug-exit,iobase=0x{KvmLab.PcLayout.IsaDebugExitPort:x},iosize=2", "-bios", bios,
    ];

    /// <summary>Compiles native/c_vmm.c with gcc and writes the guest's image beside it; null when gcc is missing.</summary>
    private static (string Binary, IReadOnlyList<string> Arguments)? BuildCVmm(string dir, KvmLab.Loading.GuestImage image)
    {
        if (image.Mode != KvmLab.Loading.CpuMode.Real) return null;
        var source = Path.Combine(dir, CVmmResource);
        using (var resource = typeof(StartToHaltBenchmark).Assembly.GetManifestResourceStream(CVmmResource)
            ?? throw new InvalidOperationException($"The embedded resource {CVmmResource} is missing."))
        using (var file = File.Create(source))
            resource.CopyTo(file);
        var binary = Path.Combine(dir, "c_vmm");
        try
        {
            ProcessRunner.Execute("gcc", ["-O2", "-o", binary, source]);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        var imageFile = Path.Combine(dir, "guest.img");
        File.WriteAllBytes(imageFile, image.Bytes.ToArray());
        return (binary, [imageFile, image.LoadAddress.ToString("x"), image.Entry.ToString("x")]);
    }

    private static IReadOnlyList<(string, double)> MedianPhases(List<IReadOnlyList<(string Phase, double Ms)>> runs) =>
        runs[0].Select((p, i) => (p.Phase, Median(runs.Where(r => r.Count > i).Select(r => r[i].Ms)))).ToList();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary><c>dotnet kvmlab.dll run GUEST</c>: what a user types, timed from process start to the guest's end.</summary>
    private static (string Dotnet, string[] Args) KvmLabCommandLine(string dll, string guest)
    {
        var host = Environment.ProcessPath;
        var dotnet = host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        return (dotnet, [dll, "run", guest]);
    }

    /// <summary>Times one kvmlab run; with <paramref name="phases"/>, also collects its <see cref="StartupProfile"/> line.</summary>
    private static double TimeKvmLab(string file, string[] args, IReadOnlyDictionary<string, string>? environment, List<IReadOnlyList<(string, double)>>? phases)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        if (phases is not null) env[StartupProfile.Variable] = System.Diagnostics.Stopwatch.GetTimestamp().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (code, output, error, elapsed) = ProcessRunner.Time(file, args, TimeSpan.FromMinutes(1), env);
        // `kvmlab run` passes the guest's debug-exit status on as QEMU does.
        if (code != 0 && code != (GuestAssembler.ExitSuccess << 1 | 1))
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}: {error}{output}");
        if (phases is not null && StartupProfile.Parse(error) is { } profile)
            phases.Add([.. profile, ("exit", elapsed.TotalMilliseconds)]);
        return elapsed.TotalMilliseconds;
    }

    private static double TimeExpectingSuccess(string file, IReadOnlyList<string> args)
    {
        var (code, _, error, elapsed) = ProcessRunner.Time(file, args, TimeSpan.FromMinutes(1));
        // isa-debug-exit makes QEMU (and the C VMM) exit with (value << 1) | 1.
        if (code != (GuestAssembler.ExitSuccess << 1 | 1))
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {code} instead of {GuestAssembler.ExitSuccess << 1 | 1}: {error}");
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
