using KvmLab.Tracing;
using KvmLab.Tracing.Kernel;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab run</c>: boots a guest, streams its serial output, reports how the run ended and what it cost.</summary>
internal sealed class RunCommand : ICommand
{
    private static readonly string[] Flags = ["stats", "kernel-stats", "no-irqchip"];
    private static readonly string[] Valued = [.. GuestSource.Options, .. GuestSession.LimitOptions, "trace", "chart", "chart-kind", "kernel-trace", "mermaid", "first"];

    /// <inheritdoc />
    public string Name => "run";

    /// <inheritdoc />
    public string Summary => "run a built-in guest or a flat image file and report how it ended";

    /// <inheritdoc />
    public string Help =>
        $"""
        usage: kvmlab run GUEST|FILE [options]

        Boots GUEST (a built-in guest, see 'kvmlab guests') or FILE (a flat binary image) on KVM, with COM1,
        isa-debug-exit, edu and pci-testdev plugged in as in QEMU's pc (or --machine q35) machine, and runs it until it halts,
        writes to isa-debug-exit, fails, or a limit is reached. The guest's serial output goes to stdout as it
        is written; kvmlab's summary line and --stats tables go to stderr (as perf stat does), so stdout can be
        compared with QEMU's -serial stdio.

        Options:
        {GuestSession.Help}
          --stats                      tables of exits by reason, device and register: count, %,
                                       rate, handling latency min/avg/max and average round trip
          --kernel-stats               the vCPU's kernel counters over the run (KVM_GET_STATS_FD, their kernel
                                       names: exits, io_exits, mmio_exits, insn_emulation, ...) beside the
                                       exits that reached kvmlab: the difference is what KVM handled inside
          --kernel-trace FILE          capture KVM's tracepoints for the run (root, tracefs) and write them with
                                       kvmlab's exits on one clock: FILE.json holds kernel exits, which reached
                                       kvmlab, accesses per port/address and the merged timeline;
                                       FILE.perfetto.json both halves as tracks for ui.perfetto.dev, an arrow
                                       from each kernel exit that returned to kvmlab's record of it
          --trace FILE                 save every exit: .csv, .json, or .perfetto.json (open in ui.perfetto.dev)
          --mermaid FILE               a Mermaid sequence diagram of the first exits (--first N, default 12):
                                       guest -> KVM -> run loop -> address space -> device and back, with exit
                                       reason, address, value and register; with --kernel-trace the kernel's exits
                                       too. FILE.md gets a fenced block for Markdown, any other name the bare source
          --first N                    how many records --mermaid draws
        {ChartOutput.Help}
        {RunExitCodes.HelpTable}

        Examples:
          kvmlab run hello
          kvmlab run in-kernel --kernel-stats
          sudo kvmlab run in-kernel --kernel-trace in-kernel.kernel.json
          sudo kvmlab run in-kernel --kernel-trace in-kernel.perfetto.json
          kvmlab run pci-scan --stats --chart pci-scan.html
          kvmlab run pci-scan-ecam --machine q35
          kvmlab run edu --mode long --trace edu.perfetto.json
          kvmlab run pci-scan --mermaid pci-scan.md --first 4
          kvmlab run loop.bin --mode protected --timeout 200ms
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, Flags, Valued);
        if (a.Positionals.Count != 1) throw new UsageException("expected one GUEST or FILE");
        var image = GuestSource.Resolve(a.Positionals[0], a);
        StartupProfile.Mark("image");
        var tracePath = a.Get("trace");
        var chartPath = a.Get("chart");
        if (tracePath is not null)
        {
            try { TraceExport.FormatFor(tracePath); }
            catch (ArgumentException e) { throw new UsageException($"--trace: {e.Message}"); }
        }
        var kernelTracePath = a.Get("kernel-trace");
        // One decision of the format, by TraceExport's rule for file names: .perfetto.json -> tracks, .json -> analysis.
        var kernelTracePerfetto = false;
        if (kernelTracePath is not null)
        {
            var format = kernelTracePath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TraceExport.FormatFor(kernelTracePath) : TraceExport.Format.Csv;
            if (format == TraceExport.Format.Csv)
                throw new UsageException($"--kernel-trace: cannot tell the format from '{kernelTracePath}': use a name ending in .json (the analysis) or .perfetto.json (tracks for ui.perfetto.dev)");
            kernelTracePerfetto = format == TraceExport.Format.ChromeTrace;
        }
        if (kernelTracePath is not null && !Environment.IsPrivilegedProcess)
            throw new UsageException("--kernel-trace reads KVM's tracepoints from tracefs, which needs root: run kvmlab as root (sudo), or use --kernel-stats, which needs none");
        var mermaidPath = a.Get("mermaid");
        var first = 12;
        if (a.Get("first") is { } firstText && (!int.TryParse(firstText, out first) || first < 1))
            throw new UsageException($"--first: expected a positive number of records, not '{firstText}'");
        if (mermaidPath is null && a.Has("first")) throw new UsageException("--first needs --mermaid FILE");
        if (chartPath is not null) ChartOutput.Validate(chartPath, a.Get("chart-kind"));
        else if (a.Has("chart-kind")) throw new UsageException("--chart-kind needs --chart FILE");

        var cancel = GuestSession.CancelOnCtrlC();
        var limits = GuestSession.Limits(a, cancel.Token);
        var stdout = Console.Out;
        RunResult result;
        Machine? booted = null;
        var progress = Console.IsOutputRedirected ? null : new ProgressLine(stdout, () => booted?.ExitCount ?? 0);
        try
        {
            booted = GuestSession.Boot(image, a, progress ?? (TextWriter)new AutoFlushWriter(stdout));
        }
        catch
        {
            progress?.Dispose();
            throw;
        }
        using var machine = booted;
        StartupProfile.Mark("machine");
        KernelStatsSnapshot? kernelBefore = null;
        KernelTrace? kernelTrace = null;
        IReadOnlyList<KernelTraceEvent>? kernelEvents = null;
        try
        {
            if (a.Has("kernel-stats")) kernelBefore = machine.KernelStats.Snapshot();
            if (kernelTracePath is not null) kernelTrace = KernelTrace.Start();
            result = machine.Run(limits);
            StartupProfile.Mark("halt");
            kernelEvents = kernelTrace?.Stop();
        }
        finally
        {
            kernelTrace?.Dispose();
            progress?.Dispose();
        }
        var code = RunExitCodes.For(result);
        var report = Console.Error;
        if (machine.SerialOutput.Length > 0 && !machine.SerialOutput.EndsWith('\n') && progress is null) stdout.WriteLine();
        stdout.Flush();
        report.WriteLine(GuestSession.Summary(image, result, code));
        if (a.Has("stats"))
        {
            StatTables.ConsoleFor(report, Console.IsErrorRedirected).Write(StatTables.Render(machine.Trace));
        }
        if (kernelBefore is not null)
            report.Write(KernelStatsTable.Render(machine.KernelStats.Snapshot().Since(kernelBefore), machine));
        if (kernelTracePath is not null && kernelEvents is not null)
        {
            if (kernelTracePerfetto)
                KernelTracePerfetto.Save(kernelTracePath, kernelEvents, machine);
            else
                KernelTraceFile.Write(kernelTracePath, kernelEvents, machine);
            var exits = KernelExits.Of(kernelEvents);
            report.WriteLine($"kvmlab: wrote {kernelEvents.Count} kernel events ({exits.Count} kernel exits: {exits.Count(x => !x.ReachedUserSpace)} finished in the kernel, {exits.Count(x => x.ReachedUserSpace)} returned to kvmlab) to {kernelTracePath}");
        }
        if (tracePath is not null)
        {
            TraceExport.Save(machine.Trace, tracePath);
            report.WriteLine($"kvmlab: wrote {machine.Trace.Count} records to {tracePath}");
        }
        if (mermaidPath is not null)
        {
            var options = new SequenceDiagramOptions { KernelEvents = kernelEvents, TraceEpochNanos = machine.TraceEpochNanos };
            var slice = machine.Trace.First(first);
            slice.ToMermaid(options).Save(mermaidPath);
            report.WriteLine($"kvmlab: wrote a sequence diagram of records 0..{slice.Count - 1} to {mermaidPath}");
        }
        if (chartPath is not null)
        {
            foreach (var file in ChartOutput.Write(machine.Trace, chartPath, a.Get("chart-kind")))
                report.WriteLine($"kvmlab: wrote chart {file}");
        }
        StartupProfile.Mark("reported");
        StartupProfile.Report(report);
        return code;
    }
}
