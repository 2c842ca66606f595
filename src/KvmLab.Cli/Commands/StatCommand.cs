using Spectre.Console;
using Spectre.Console.Rendering;

namespace KvmLab.Cli.Commands;

/// <summary>
/// <c>kvmlab stat</c>: a kvm_stat-like view of a guest while it runs. The guest runs on a worker thread; this thread
/// reads the trace concurrently (one writer, readers of a consistent prefix) and redraws the tables.
/// </summary>
internal sealed class StatCommand : ICommand
{
    private static readonly string[] Flags = ["once", "no-irqchip"];
    private static readonly string[] Valued = [.. GuestSource.Options, .. GuestSession.LimitOptions, "interval"];

    /// <inheritdoc />
    public string Name => "stat";

    /// <inheritdoc />
    public string Summary => "live kvm_stat-like view of a guest's exits by reason, device and register";

    /// <inheritdoc />
    public string Help =>
        $"""
        usage: kvmlab stat GUEST|FILE [options]

        Runs the guest like 'kvmlab run' and shows, refreshed while it runs, the KVM exits by reason (count, %,
        rate, handling latency) and the device and register accesses they turned into: what kvm_stat shows,
        plus what kvm_stat cannot attribute, and beside them the vCPU's own kernel counters (KVM_GET_STATS_FD):
        how many exits KVM took in all, and how many of them it finished without returning to kvmlab.
        The guest's serial output is not echoed (see 'kvmlab run').
        When stdout is not a terminal, or with --once, one set of tables is printed when the run ends.

        Options:
        {GuestSession.Help}
          --once                       print the tables once, at the end (for logs)
          --interval T                 refresh period of the live view (default 250ms)

        Exit status: as for 'kvmlab run' (see kvmlab run --help).
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, Flags, Valued);
        if (a.Positionals.Count != 1) throw new UsageException("expected one GUEST or FILE");
        var image = GuestSource.Resolve(a.Positionals[0], a);
        var interval = a.GetDuration("interval", TimeSpan.FromMilliseconds(250));
        if (interval < TimeSpan.FromMilliseconds(10)) throw new UsageException("--interval must be at least 10ms");
        var cancel = GuestSession.CancelOnCtrlC();
        var limits = GuestSession.Limits(a, cancel.Token);
        var live = !a.Has("once") && !Console.IsOutputRedirected;
        var console = StatTables.ConsoleFor(Console.Out, Console.IsOutputRedirected);

        using var machine = GuestSession.Boot(image, a, serialEcho: null);
        // Read before the guest starts, from this thread; the view reads the counters again on each refresh.
        KernelStatsSnapshot? kernelBaseline = null;
        try { kernelBaseline = machine.KernelStats.Snapshot(); }
        catch (NotSupportedException) { }
        RunResult? result = null;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { result = machine.Run(limits); }
            catch (Exception e) { failure = e; }
        })
        { Name = "kvmlab vCPU 0", IsBackground = true };
        worker.Start();

        if (live)
        {
            var rows = Math.Max(3, (console.Profile.Height - 16) / 3);
            console.Live(View(machine, image.Name, null, rows, kernelBaseline)).AutoClear(false).Start(ctx =>
            {
                while (!worker.Join(interval))
                {
                    ctx.UpdateTarget(View(machine, image.Name, null, rows, kernelBaseline));
                }
                ctx.UpdateTarget(View(machine, image.Name, result, rows, kernelBaseline));
            });
        }
        else
        {
            worker.Join();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        var code = RunExitCodes.For(result!);
        if (!live) console.Write(View(machine, image.Name, result, int.MaxValue, kernelBaseline));
        console.WriteLine(GuestSession.Summary(image, result!, code));
        return code;
    }

    private static IRenderable View(Machine machine, string name, RunResult? result, int maxRows, KernelStatsSnapshot? kernelBaseline)
    {
        var exits = machine.ExitCount;
        var seconds = machine.Trace.DurationNanos / 1e9;
        var header = result is null
            ? $"kvmlab stat: {name}: running, {exits:N0} exits in {seconds:F2} s"
            : $"kvmlab stat: {name}: {result.Reason}, {exits:N0} exits in {result.Elapsed.TotalSeconds:F2} s";
        return new Rows(new Text(header), StatTables.Render(machine.Trace, maxRows), KernelTable(machine, kernelBaseline));
    }

    // The kernel's column: what KVM counted since the guest started, beside what reached kvmlab.
    private static IRenderable KernelTable(Machine machine, KernelStatsSnapshot? baseline)
    {
        if (baseline is null) return new Text("kernel counters: not available (KVM_GET_STATS_FD needs Linux 5.14 or later)");
        var delta = machine.KernelStats.Snapshot().Since(baseline).Vcpu;
        var (userIo, userMmio) = KernelStatsTable.UserExits(machine.Trace);
        var table = new Table().Title($"kernel counters ({delta.To.File.Id})").AddColumn("counter").AddColumn(new TableColumn("in KVM").RightAligned())
            .AddColumn(new TableColumn("reached kvmlab").RightAligned()).AddColumn(new TableColumn("finished inside").RightAligned());
        void Row(string counter, long? user)
        {
            if (delta.To.File.Find(counter) is null) return;
            var kernel = delta[counter];
            table.AddRow(counter, $"{kernel:N0}", user is { } u ? $"{u:N0}" : "", user is { } v && kernel >= v ? $"{kernel - v:N0}" : "");
        }
        Row("exits", machine.ExitCount);
        Row("io_exits", userIo);
        Row("mmio_exits", userMmio);
        Row("insn_emulation", null);
        Row("halt_exits", null);
        Row("pf_mmio_spte_created", null);
        return table;
    }
}
