using System.Text.Json;
using KvmLab.Cli.Bench;
using KvmLab.Guests;
using Spectre.Console;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab bench</c>: exit costs, allocation, trace, startup and chart figures, each against a reference measured in the same run.</summary>
internal sealed class BenchCommand : ICommand
{
    /// <inheritdoc />
    public string Name => "bench";

    /// <inheritdoc />
    public string Summary => "measure exit cost, allocation, startup and charts against C and QEMU references";

    /// <inheritdoc />
    public string Help => """
        usage: kvmlab bench [--quick] [--json FILE] [--kvmlab DLL] [--check]
               kvmlab bench --dispatch-only [--quick] [--json FILE] [--check]
               kvmlab bench --table FILE
               kvmlab bench --boot GUEST

        Measures, with the reference measured in the same run:
          - one exit through Machine.Run / Machine.Step / Vcpu.Run vs a C KVM_RUN loop built with gcc (PIO and MMIO)
          - the run loop's dispatch of one exit after KVM_RUN returned (decode, address space, device, trace
            record) on prepared kvm_run contents, for PIO/MMIO reads and writes, coalesced replay, MSI and debug
            exits, traced and not: ns and bytes per exit (no KVM involved)
          - managed bytes allocated per exit in the run loop
          - trace bytes per exit (live heap growth and bytes allocated over 1,000,000 real exits), and a run of
            10,000,000 exits streamed to a .kvmtrace file with the process's RSS growth
          - Machine create + dispose against C making the same calls warm in one process, and which call dominates
          - exporting and charting that real trace and a synthetic 1,000,000-record one
          - exits and time saved on pci-testdev by ioeventfd and by coalesced MMIO
          - process start to halt of kvmlab vs qemu-system-x86_64 -accel kvm -bios (when QEMU is installed)
        and prints a table (figure, value, reference, ratio or goal, verdict). Best rounds are compared; medians
        are in the notes. Other load on the machine disturbs the numbers: the table shows the load average.

        options:
          --quick        a small run of every figure (seconds; numbers are rough)
          --dispatch-only  only the dispatch benchmark: needs no /dev/kvm, gcc or QEMU (a few seconds)
          --json FILE    also write every figure, its reference and the machine description as JSON
          --check        exit 1 when a figure misses its goal (after printing the table and writing the JSON),
                         naming each; without it the verdicts are reported and the exit code is 0
          --table FILE   print the figures of a --json FILE as the Markdown table the README publishes (machine,
                         KVM backend, build and load named above it); measures nothing
          --kvmlab DLL   time this build of kvmlab (e.g. a ReadyToRun publish's KvmLab.Cli.dll) for start to halt,
                         instead of the one running the benchmark
          --boot GUEST   boot a library guest, run it to its end and exit (the process the start-to-halt figure times
                         while kvmlab has no run command); exit code 0 when the guest ends in success

        examples:
          kvmlab bench --json bench.json
          kvmlab bench --quick
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, ["quick", "check", "dispatch-only"], ["json", "boot", "kvmlab", "table"]);
        if (a.Positionals.Count > 0) throw new UsageException($"unexpected argument '{a.Positionals[0]}'");
        if (a.Get("boot") is { } guest) return Boot(guest);
        if (a.Get("table") is { } table) return Table(table);

        var settings = a.Has("quick") ? BenchSettings.Quick : BenchSettings.Full;
        var core = typeof(Machine).Assembly.Location;
        if (BuildDescription.IsDebug(core))
            Console.Error.WriteLine($"bench: warning: {Path.GetFileName(core)} is a Debug build (no JIT optimizations): exit costs are not representative; build with -c Release");
        var kvmlab = a.Get("kvmlab");
        if (kvmlab is not null && !File.Exists(kvmlab)) throw new UsageException($"--kvmlab: no file '{kvmlab}' (give the path of a KvmLab.Cli.dll)");
        BenchReport report;
        try
        {
            void Progress(string step) => Console.Error.WriteLine($"bench: {step}");
            report = a.Has("dispatch-only")
                ? BenchSuite.RunDispatchOnly(settings, Progress)
                : BenchSuite.Run(settings, Progress, kvmlab is null ? null : Path.GetFullPath(kvmlab));
        }
        catch (InvalidOperationException e)
        {
            // A reference that cannot be built or run, or a benchmark guest that did not behave: no table without it.
            Console.Error.WriteLine($"kvmlab bench: {e.Message}");
            return 1;
        }
        Print(report);
        if (a.Get("json") is { } path)
        {
            File.WriteAllText(path, report.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.Error.WriteLine($"bench: wrote {path}");
        }
        return a.Has("check") ? Check(report.Figures, Console.Error) : 0;
    }

    /// <summary>The <c>--check</c> verdict: 1 and the name of each figure that missed its goal, else 0.</summary>
    internal static int Check(IReadOnlyList<Figure> figures, TextWriter report)
    {
        var missed = figures.Where(f => f.Verdict == Verdict.Missed).ToList();
        if (missed.Count == 0)
        {
            var n = figures.Count(f => f.Verdict == Verdict.Met);
            report.WriteLine($"bench: --check: every goal met ({n} figure{(n == 1 ? "" : "s")} with a goal)");
            return 0;
        }
        report.WriteLine($"bench: --check: {missed.Count} goal{(missed.Count == 1 ? "" : "s")} missed:");
        foreach (var f in missed)
            report.WriteLine($"  {f.Name.Trim()}: {Figure.Format(f.Value)} {f.Unit}, goal {f.Goal}");
        return 1;
    }

    private static int Table(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--table: no file '{path}' (give a kvmlab bench --json output)");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path)) as System.Text.Json.Nodes.JsonObject
            ?? throw new UsageException($"--table: '{path}' is not a JSON object");
        try
        {
            Console.Out.Write(BenchMarkdown.Render(json));
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--table: '{path}': {e.Message}");
        }
        return 0;
    }

    private static int Boot(string name)
    {
        var entry = GuestLibrary.Find(name) ?? throw new UsageException(
            $"no guest named '{name}'; the library has: {string.Join(", ", GuestLibrary.All.Select(g => g.Name))}");
        using var machine = Machine.Boot(entry.Build());
        var result = machine.Run();
        Console.Out.Write(machine.SerialOutput);
        return result.Reason == StopReason.IsaDebugExit && result.ExitStatus == ((ulong)GuestAssembler.ExitSuccess << 1 | 1)
            || result.Reason == StopReason.Halted ? 0 : 1;
    }

    private static void Print(BenchReport report)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        // Written to a file or a pipe the table would be folded to 80 columns; its rows are meant to be read whole.
        if (Console.IsOutputRedirected) console.Profile.Width = 240;
        var table = new Table().Title(Markup.Escape($"kvmlab bench on {report.Host}"));
        table.AddColumn("figure").AddColumn(new TableColumn("value").RightAligned()).AddColumn(new TableColumn("reference").RightAligned())
            .AddColumn(new TableColumn("ratio").RightAligned()).AddColumn("goal").AddColumn("verdict").AddColumn("note");
        foreach (var f in report.Figures)
        {
            var reference = f.Reference is null ? "-" : $"{Figure.Format(f.Reference)} {f.Unit} ({f.ReferenceName})";
            var verdict = f.Verdict switch
            {
                Verdict.Met => "[green]met[/]",
                Verdict.Missed => "[red]missed[/]",
                Verdict.NotMeasured => "[yellow]not measured[/]",
                _ => "info",
            };
            table.AddRow(Markup.Escape(f.Name), Markup.Escape($"{Figure.Format(f.Value)} {f.Unit}"), Markup.Escape(reference),
                Markup.Escape(f.Ratio is null ? "-" : Figure.Format(f.Ratio)), Markup.Escape(f.Goal ?? "-"), verdict, Markup.Escape(f.Note ?? ""));
        }
        console.Write(table);
    }
}
