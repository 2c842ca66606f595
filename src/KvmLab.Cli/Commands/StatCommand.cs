using Spectre.Console;
using Spectre.Console.Rendering;

namespace KvmLab.Cli;

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
        plus what kvm_stat cannot attribute. The guest's serial output is not echoed (see 'kvmlab run').
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
        RunResult? result = null;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { result = machine.Run(limits); }
            catch (Exception e) { failure = e; }
        }) { Name = "kvmlab vCPU 0", IsBackground = true };
        worker.Start();

        if (live)
        {
            var rows = Math.Max(3, (console.Profile.Height - 16) / 3);
            console.Live(View(machine, image.Name, null, rows)).AutoClear(false).Start(ctx =>
            {
                while (!worker.Join(interval))
                {
                    ctx.UpdateTarget(View(machine, image.Name, null, rows));
                }
                ctx.UpdateTarget(View(machine, image.Name, result, rows));
            });
        }
        else
        {
            worker.Join();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        var code = RunExitCodes.For(result!);
        if (!live) console.Write(View(machine, image.Name, result, int.MaxValue));
        console.WriteLine(GuestSession.Summary(image, result!, code));
        return code;
    }

    private static IRenderable View(Machine machine, string name, RunResult? result, int maxRows)
    {
        var exits = machine.ExitCount;
        var seconds = machine.Trace.DurationNanos / 1e9;
        var header = result is null
            ? $"kvmlab stat: {name}: running, {exits:N0} exits in {seconds:F2} s"
            : $"kvmlab stat: {name}: {result.Reason}, {exits:N0} exits in {result.Elapsed.TotalSeconds:F2} s";
        return new Rows(new Text(header), StatTables.Render(machine.Trace, maxRows));
    }
}
