using KvmLab.Guests;
using KvmLab.Qemu;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab compare</c>: one library guest on KvmLab and under QEMU, access for access.</summary>
internal sealed class CompareCommand : ICommand
{
    public string Name => "compare";

    public string Summary => "Run a guest on KvmLab and on QEMU and line up their device accesses";

    public string Help => """
        usage: kvmlab compare GUEST [--mode real|protected|long] [--machine pc|q35] [--accel kvm|tcg] [--json FILE]
                              [--diff] [--timeout 20s]
               kvmlab compare --config-space [--machine pc|q35] [--accel kvm|tcg] [--timeout 20s]
               kvmlab compare --all [--machine pc|q35] [--accel kvm|tcg] [--timeout 20s]

        Runs the library guest GUEST on a KvmLab machine and, exported as firmware, under qemu-system-x86_64 with
        the same board (-M pc or -M q35) and devices (COM1, isa-debug-exit 0x501, edu at 00:02.0, pci-testdev at
        00:03.0, on q35 also a pcie-root-port at 00:01.0), traces both, and lines the traces up access by access.

        Prints both serial outputs side by side, the table of device accesses (first column: '!' a divergence,
        '~' a status poll that ran a different number of times, 'e' a known difference between the machines with
        its reason, blank a match), and the accesses per region on both sides.

          --mode M       the guest's CPU mode (default: the guest's own)
          --machine B    the board: pc or q35 (default: the one the guest was written for, else pc)
          --accel A      QEMU's accelerator: kvm (default) or tcg
          --json FILE    also write the whole comparison as JSON
          --diff         leave the matching rows out of the table
          --timeout T    wall-clock limit for each run (default 20s)

        With --config-space the guest is config-dump: every function's configuration space as the guest reads it
        (256 bytes through conf1 on pc, 4 KiB through ECAM on q35), compared byte for byte; each differing byte is
        listed, 'e' with the reason it is expected, '!' when nothing explains it.

        With --all every library guest runs in every mode it supports, on the board it needs or (when it runs on
        any) on pc and q35 (only the one --machine names, if given): one verdict line per run, the config-dump guest
        judged byte for byte as --config-space does.

        exit status: 0 the runs agree (beyond explained differences), 1 they diverge, 2 usage error,
                     3 QEMU or KVM is missing on this host.

        example: kvmlab compare pci-scan --diff
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, ["diff", "config-space", "all"], ["mode", "accel", "json", "timeout", "machine"]);
        if (a.Has("all"))
        {
            if (a.Positionals.Count != 0 || a.Has("config-space") || a.Has("mode") || a.Has("json") || a.Has("diff"))
                throw new UsageException("--all runs every guest: it takes only --machine, --accel and --timeout");
            return All(a);
        }
        if (a.Has("config-space"))
        {
            if (a.Positionals.Count != 0) throw new UsageException("--config-space runs its own guest (config-dump): give no guest name");
            if (a.Has("mode") || a.Has("json") || a.Has("diff")) throw new UsageException("--config-space takes only --machine, --accel and --timeout");
        }
        else if (a.Positionals.Count != 1) throw new UsageException("expected one guest name");
        var guest = a.Has("config-space") ? ConfigDumpGuest.Entry : GuestSource.Named(a.Positionals[0]);
        var mode = GuestSource.ParseMode(a.Get("mode")) ?? guest.DefaultMode;
        if (!guest.Modes.Contains(mode))
            throw new UsageException($"guest '{guest.Name}' runs in {string.Join(", ", guest.Modes).ToLowerInvariant()}, not {mode.ToString().ToLowerInvariant()}");
        var accel = Accelerator(a);
        var timeout = a.GetDuration("timeout", TimeSpan.FromSeconds(20));

        var image = guest.Build(mode);
        QemuComparison c;
        try
        {
            var machine = new MachineOptions { Board = GuestSession.Board(a, image) };
            c = QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions { Accelerator = accel, Timeout = timeout, Machine = machine });
        }
        catch (QemuNotFoundException e)
        {
            Console.Error.WriteLine($"kvmlab compare: {e.Message}");
            return CommandTable.HostError;
        }

        var o = Console.Out;
        if (a.Has("config-space")) return ReportConfigSpace(c, o);
        o.WriteLine($"{guest.Name} ({mode.ToString().ToLowerInvariant()} mode, {c.Board.Name} board)");
        o.WriteLine($"  KvmLab: {c.KvmLabRun}");
        o.WriteLine($"  QEMU:   {c.Qemu}");
        if (c.Qemu.TimedOut || c.Qemu.IsaDebugExitValue is null)
            foreach (var line in c.Qemu.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)) o.WriteLine($"  qemu: {line}");
        o.WriteLine();
        o.WriteLine("serial output:");
        o.Write(c.DescribeSerial());
        o.WriteLine();
        o.WriteLine("device accesses:");
        o.Write(c.Alignment.ToTable(a.Has("diff")));
        o.WriteLine();
        if (a.Get("json") is { } path)
        {
            using var file = File.Create(path);
            c.WriteJson(file);
            o.WriteLine($"comparison written to {path}");
        }
        var divergences = c.Alignment.Divergences.Count() + c.SerialLines.Count(l => l.Status == SerialLineStatus.Differs);
        o.WriteLine(c.Agrees
            ? "verdict: KvmLab and QEMU agree (differences above marked 'e' are explained)"
            : $"verdict: KvmLab and QEMU DIVERGE ({divergences} unexplained difference(s); debug-exit KvmLab " +
              $"{Hex(c.KvmLabIsaDebugExitValue)}, QEMU {Hex(c.Qemu.IsaDebugExitValue)})");
        return c.Agrees ? 0 : 1;
    }

    private static int All(Arguments a)
    {
        var accel = Accelerator(a);
        var timeout = a.GetDuration("timeout", TimeSpan.FromSeconds(20));
        var only = a.Has("machine") ? GuestSession.Board(a) : null;
        var cases = CompareAll.Plan(GuestLibrary.All).Where(c => only is null || c.Board.Name == only.Name).ToList();
        try
        {
            return CompareAll.Run(cases, c =>
            {
                var image = c.Guest.Build(c.Mode);
                var r = QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions
                {
                    Accelerator = accel, Timeout = timeout, Machine = new MachineOptions { Board = c.Board },
                });
                var exits = $"KvmLab {r.KvmLabTrace.ExitCount} exits, QEMU {r.Qemu.Trace.KvmExits}";
                if (c.Guest.Name != ConfigDumpGuest.Entry.Name)
                    return new CompareAll.Verdict(r.Agrees, r.Agrees ? exits : $"{exits}; {r.Alignment.Divergences.Count()} unexplained access difference(s)");
                var bytes = ConfigSpaceComparison.Compare(r.KvmLabSerial, r.Qemu.SerialText, ConfigSpaceDifferenceReason.For(c.Board.Name));
                var done = r.KvmLabSerial.Contains(ConfigDumpGuest.FinalLine, StringComparison.Ordinal) && r.Qemu.SerialText.Contains(ConfigDumpGuest.FinalLine, StringComparison.Ordinal);
                var unreadable = r.Qemu.Trace.MalformedLines;
                return new CompareAll.Verdict(done && bytes.Unexplained.Count == 0 && unreadable == 0,
                    $"{bytes.Functions} functions byte for byte, {bytes.Unexplained.Count} unexplained of {bytes.Differences.Count} differing"
                    + (unreadable > 0 ? $"; {unreadable} unreadable QEMU trace line(s)" : ""));
            }, Console.Out);
        }
        catch (QemuNotFoundException e)
        {
            Console.Error.WriteLine($"kvmlab compare: {e.Message}");
            return CommandTable.HostError;
        }
    }

    private static QemuAccelerator Accelerator(Arguments a) => a.Get("accel") switch
    {
        null or "kvm" => QemuAccelerator.Kvm,
        "tcg" => QemuAccelerator.Tcg,
        var other => throw new UsageException($"--accel expects kvm or tcg, got '{other}'"),
    };

    private static int ReportConfigSpace(QemuComparison c, TextWriter o)
    {
        o.WriteLine($"configuration space, {c.Board.Name} board");
        o.WriteLine($"  KvmLab: {c.KvmLabRun}");
        o.WriteLine($"  QEMU:   {c.Qemu}");
        if (!c.KvmLabSerial.Contains(ConfigDumpGuest.FinalLine, StringComparison.Ordinal) || !c.Qemu.SerialText.Contains(ConfigDumpGuest.FinalLine, StringComparison.Ordinal))
        {
            o.WriteLine("verdict: a dump did not finish; nothing to compare");
            return 1;
        }
        var cs = ConfigSpaceComparison.Compare(c.KvmLabSerial, c.Qemu.SerialText, ConfigSpaceDifferenceReason.For(c.Board.Name));
        o.Write(cs.Describe());
        o.WriteLine(cs.Unexplained.Count == 0
            ? "verdict: every configuration byte agrees or differs for a reason given above"
            : $"verdict: {cs.Unexplained.Count} configuration byte(s) differ without a reason");
        return cs.Unexplained.Count == 0 ? 0 : 1;
    }

    private static string Hex(int? value) => value is { } v ? $"0x{v:x2}" : "none";
}
