using System.Diagnostics;
using KvmLab.Guests;
using KvmLab.Kvm;
using KvmLab.Qemu;
using Spectre.Console;

namespace KvmLab.Cli.Commands;

/// <summary>
/// <c>kvmlab doctor</c>: checks what KvmLab needs from this host, one line per check (OK, WARN or FAIL) with the fix,
/// and states the known limits of the KVM backend it finds.
/// </summary>
internal sealed class DoctorCommand : ICommand
{
    private const string DevKvm = "/dev/kvm";

    private enum Level { Ok, Warn, Fail }

    private readonly List<(Level Level, string Text, string? Fix)> _lines = new();

    /// <inheritdoc />
    public string Name => "doctor";

    /// <inheritdoc />
    public string Summary => "check /dev/kvm, the KVM backend and its limits, QEMU and the notebook tooling";

    /// <inheritdoc />
    public string Help =>
        """
        usage: kvmlab doctor

        Checks, one line each (OK, WARN or FAIL, with the fix):
          /dev/kvm present and accessible, KVM API version, which KVM backend serves it (kvm_intel, kvm_amd,
          kvm_pvm) and what that backend cannot do, the capabilities KvmLab uses, a real guest run,
          qemu-system-x86_64 (the reference VMM) and its edu device, the notebook tooling (the dotnet-interactive
          tool manifest, jupyter-nbconvert, the .NET Jupyter kernel, chromium for static Plotly images).

        Exit status: 0 when KVM works (warnings may remain), 3 when it does not.
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, [], []);
        if (a.Positionals.Count > 0) throw new UsageException("doctor takes no arguments");
        _lines.Clear();
        var kvmWorks = CheckKvm();
        CheckQemu();
        CheckNotebookTooling();

        var console = StatTables.ConsoleFor(Console.Out, Console.IsOutputRedirected);
        foreach (var (level, text, fix) in _lines)
        {
            var tag = level switch { Level.Ok => "[green]OK  [/]", Level.Warn => "[yellow]WARN[/]", _ => "[red]FAIL[/]" };
            console.MarkupLine($"{tag} {Markup.Escape(text)}");
            if (fix is not null) console.MarkupLine($"     [dim]fix:[/] {Markup.Escape(fix)}");
        }
        console.WriteLine();
        console.MarkupLine(kvmWorks ? "[green]KVM works: kvmlab can run guests here.[/]" : "[red]KVM does not work here: kvmlab cannot run guests.[/]");
        return kvmWorks ? 0 : CommandTable.HostError;
    }

    private void Ok(string text) => _lines.Add((Level.Ok, text, null));

    private void Warn(string text, string? fix = null) => _lines.Add((Level.Warn, text, fix));

    private void Fail(string text, string fix) => _lines.Add((Level.Fail, text, fix));

    private bool CheckKvm()
    {
        var backend = Backend();
        if (!File.Exists(DevKvm))
        {
            Fail($"{DevKvm} does not exist (KVM modules loaded: {backend ?? "none"})",
                "load the module (sudo modprobe kvm_intel, or kvm_amd), enable VT-x/AMD-V in the firmware, or enable nested virtualization if this is a VM");
            return false;
        }
        KvmSystem kvm;
        try
        {
            kvm = new KvmSystem();
        }
        catch (KvmException e)
        {
            Fail($"{DevKvm} cannot be opened: {e.ErrnoSymbol}", e.Hint.Length > 0 ? e.Hint : "sudo usermod -aG kvm $USER, then log in again");
            return false;
        }
        catch (NotSupportedException e)
        {
            Fail(e.Message, "use a kernel whose KVM speaks API version 12 (every kernel since 2.6.22 does)");
            return false;
        }
        using (kvm)
        {
            Ok($"{DevKvm} is present and opens read/write");
            Ok($"KVM API version {kvm.ApiVersion}, vCPU mmap size {kvm.VcpuMmapSize} bytes");
            CheckBackend(backend);
            CheckCapabilities(kvm);
        }
        return CheckGuestRuns();
    }

    private static string? Backend()
    {
        var modules = KvmBackends.LoadedVendorModules();
        return modules.Count == 0 ? null : string.Join(", ", modules);
    }

    private void CheckBackend(string? modules)
    {
        var backend = KvmBackends.Current;
        switch (backend)
        {
            case KvmBackend.Unknown:
                Warn($"KVM backend unknown (vendor modules loaded: {modules ?? "none"}): its behaviour is measured below, nothing is assumed");
                break;
            case KvmBackend.Pvm:
                Warn("KVM backend: kvm_pvm (software, page-table based; no VT-x/AMD-V). Its measured differences from SVM/VMX follow",
                    "for hardware behaviour and numbers run on a host with kvm_intel or kvm_amd, or under tools/nested-kvm (SVM)");
                Warn("kvm_pvm: IRETD in unpaged 32-bit protected mode is not emulated (KVM_EXIT_INTERNAL_ERROR): edu-irq's protected-mode handler returns with POPFD; RET");
                Warn("kvm_pvm: a Linux kernel guest boots impractically slowly (>100 s) with emulation failures");
                break;
            default:
                Ok($"KVM backend: {backend.ModuleName()} ({backend.ToString().ToUpperInvariant()}, hardware virtualization)");
                break;
        }
        KvmBehaviour behaviour;
        try
        {
            behaviour = KvmBehaviour.Current;
        }
        catch (Exception e) when (e is KvmException or InvalidOperationException)
        {
            Warn($"KVM behaviour probe failed: {e.Message}", "report this with the output of kvmlab doctor");
            return;
        }
        var hardwareRules = behaviour.OutRip == ExitRip.AtInstruction && behaviour.InRip == ExitRip.AtInstruction
            && behaviour.MmioWriteRip == ExitRip.PastInstruction && behaviour.MmioReadRip == ExitRip.AtInstruction;
        foreach (var line in behaviour.Describe())
            Ok("measured: " + line);
        if (!hardwareRules)
            Warn("exit RIP rules differ from KVM's on SVM/VMX (at IN/OUT and MMIO reads, past MMIO writes): KvmLab's disassembly and stepping follow the measured rules");
        if (!behaviour.SoftwareBreakpoints && behaviour.HardwareBreakpoints)
            Warn("int3 breakpoints do not work here: KvmLab uses the four hardware execute breakpoints (DR0-DR3) instead");
        if (!behaviour.SoftwareBreakpoints && !behaviour.HardwareBreakpoints)
            Warn("neither int3 nor hardware breakpoints fire here: Machine.Debugger.AddBreakpoint is refused with this reason; single-stepping works");
        if (!behaviour.DataWatchpoints)
            Warn("hardware data watchpoints never fire here: Machine.Debugger.AddWatchpoint is refused with this reason");
    }

    private void CheckCapabilities(KvmSystem kvm)
    {
        var needs = new (KvmCapability Cap, string Without)[]
        {
            (KvmCapability.Irqchip, "no in-kernel irqchip: run with --no-irqchip; device interrupts (edu-irq) cannot be delivered"),
            (KvmCapability.SyncRegs, "RIP costs an extra KVM_GET_REGS per exit (~1.7x slower traced runs)"),
            (KvmCapability.ImmediateExit, "a vCPU stuck in the guest cannot be stopped promptly (timeouts, Ctrl+C)"),
            (KvmCapability.SetGuestDebug, "no single-stepping or breakpoints"),
            (KvmCapability.IoEventFd, "pci-testdev's ioeventfd lesson cannot register its fds"),
            (KvmCapability.CoalescedMmio, "coalesced MMIO cannot be shown"),
            (KvmCapability.SetTssAddress, "protected and long mode guests cannot be set up on Intel hosts"),
            (KvmCapability.ReadonlyMemory, "no read-only memory slots (not used by the lessons)"),
        };
        var missing = new List<string>();
        foreach (var (cap, without) in needs)
        {
            int value;
            try { value = kvm.CheckExtension(cap); }
            catch (KvmException) { value = 0; }
            if (value > 0) continue;
            missing.Add(cap.ToString());
            Warn($"capability {cap} is missing: {without}");
        }
        var present = needs.Length - missing.Count;
        Ok($"capabilities: {present} of {needs.Length} that KvmLab uses are reported; recommended vCPUs {kvm.CheckExtension(KvmCapability.RecommendedVcpus)}, max vCPUs {kvm.CheckExtension(KvmCapability.MaxVcpus)}");
    }

    private bool CheckGuestRuns()
    {
        try
        {
            using var machine = Machine.Boot(GuestLibrary.Get("hello").Build());
            var result = machine.Run(TimeSpan.FromSeconds(10));
            if (result.Reason == StopReason.IsaDebugExit && result.ExitStatus == 33)
            {
                Ok($"guest run: hello ended with debug-exit status 33 after {result.Exits} exits in {result.Elapsed.TotalMilliseconds:F1} ms");
                return true;
            }
            Fail($"guest run: hello ended with {result}", "report this with the output of kvmlab doctor");
            return false;
        }
        catch (KvmException e)
        {
            Fail($"guest run: {e.Message}", e.Hint.Length > 0 ? e.Hint : "report this with the output of kvmlab doctor");
            return false;
        }
    }

    private void CheckQemu()
    {
        var qemu = QemuRunner.TryFindQemu();
        if (qemu is null)
        {
            Warn("qemu-system-x86_64 not found: the QEMU comparison (kvmlab compare, QEMU tests) is unavailable",
                "sudo apt-get install qemu-system-x86");
            return;
        }
        var version = Capture(qemu, "--version")?.Split('\n')[0].Trim();
        Ok($"QEMU: {qemu} ({version ?? "version unknown"})");
        var devices = Capture(qemu, "-device", "help");
        if (devices is not null && !devices.Contains("\"edu\"", StringComparison.Ordinal))
            Warn("this QEMU has no edu device: comparisons of the edu guests will fail", "use a QEMU build with CONFIG_EDU (Debian's qemu-system-x86 has it)");
    }

    private void CheckNotebookTooling()
    {
        var manifest = FindUp(Directory.GetCurrentDirectory(), Path.Combine(".config", "dotnet-tools.json"));
        if (manifest is null)
            Warn("no dotnet tool manifest (.config/dotnet-tools.json) above this directory: run kvmlab doctor from the repository to check the notebook tools");
        else if (!File.ReadAllText(manifest).Contains("microsoft.dotnet-interactive", StringComparison.OrdinalIgnoreCase))
            Warn($"{manifest} does not list microsoft.dotnet-interactive", "dotnet tool install Microsoft.dotnet-interactive --version 1.0.712001");
        else
            Ok($"tool manifest {manifest} lists microsoft.dotnet-interactive (restore with: dotnet tool restore)");

        var nbconvert = Which("jupyter-nbconvert");
        if (nbconvert is null)
            Warn("jupyter-nbconvert not found: notebooks cannot be executed headless (.ci/jupyter-notebooks.sh)", "sudo apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel");
        else
            Ok($"jupyter-nbconvert: {nbconvert}");

        if (KernelSpecDirectories().Any(d => Directory.Exists(Path.Combine(d, ".net-csharp"))))
            Ok("Jupyter kernel .net-csharp is registered");
        else
            Warn("Jupyter kernel .net-csharp is not registered", "dotnet tool restore && dotnet interactive jupyter install");

        var chromium = Which("chromium") ?? Which("chromium-browser") ?? Which("google-chrome");
        if (chromium is null)
            Warn("chromium not found: Plotly static image export is unavailable (kvmlab's own .svg/.png charts do not need it)", "sudo apt-get install chromium");
        else
            Ok($"chromium: {chromium}");
    }

    private static IEnumerable<string> KernelSpecDirectories()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        yield return Path.Combine(home, ".local", "share", "jupyter", "kernels");
        yield return "/usr/local/share/jupyter/kernels";
        yield return "/usr/share/jupyter/kernels";
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } data) yield return Path.Combine(data, "kernels");
    }

    private static string? FindUp(string directory, string relative)
    {
        for (var d = new DirectoryInfo(directory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private static string? Capture(string program, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args) start.ArgumentList.Add(arg);
            using var process = Process.Start(start);
            if (process is null) return null;
            var stderr = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return null;
            }
            return output.Result + stderr.Result;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
