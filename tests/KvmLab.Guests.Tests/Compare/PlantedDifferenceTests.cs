using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.Compare;

/// <summary>
/// Real runs of library guests on both machines, then one device answer changed in one trace, as a device model that
/// answered differently would have recorded it: each planted difference must make the alignment diverge, and the
/// untouched traces must agree.
/// </summary>
public class PlantedDifferenceTests
{
    private static QemuComparison Compare(string guest, CpuMode mode)
    {
        var image = GuestLibrary.Get(guest).Build(mode);
        return QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(20)) });
    }

    // A copy of the trace with the record at each index <paramref name="change"/> returns changed (null: dropped).
    private static ExitTrace Planted(ExitTrace trace, Func<int, ExitRecord, ExitRecord?> change)
    {
        var copy = new ExitTrace(trace.Name + " (planted)");
        foreach (var source in trace.Sources) copy.AddSource(source);
        for (var i = 0; i < trace.Count; i++)
            if (change(i, trace[i]) is { } r) copy.Add(r);
        return copy;
    }

    // A copy of the trace with the record at <paramref name="at"/> read <paramref name="extra"/> more times before itself.
    private static ExitTrace WithRepeats(ExitTrace trace, int at, int extra)
    {
        var copy = new ExitTrace(trace.Name);
        foreach (var source in trace.Sources) copy.AddSource(source);
        for (var i = 0; i < trace.Count; i++)
        {
            if (i == at) for (var n = 0; n < extra; n++) copy.Add(trace[i]);
            copy.Add(trace[i]);
        }
        return copy;
    }

    private static ExitRecord WithValue(in ExitRecord r, ulong value) =>
        new(r.TimestampNanos, r.Reason, r.Access, r.Address, (byte)r.Size, value, r.Rip, r.Flags, r.Source, r.Register, r.RunNanos, r.HandlerNanos);

    private static ExitRecord WithAddress(in ExitRecord r, ulong address) =>
        new(r.TimestampNanos, r.Reason, r.Access, address, (byte)r.Size, r.Value, r.Rip, r.Flags, r.Source, r.Register, r.RunNanos, r.HandlerNanos);

    private static List<int> Indices(ExitTrace trace, Func<ResolvedExit, bool> which) =>
        Enumerable.Range(0, trace.Count).Where(i => which(trace.Resolve(i))).ToList();

    [CompareFact]
    public void A_status_read_changed_in_the_middle_of_qemus_poll_is_reported()
    {
        var c = Compare("edu", CpuMode.Protected);
        var qemu = c.Qemu.Trace.Trace;
        Assert.True(TraceAligner.Align(c.KvmLabTrace, qemu).Agrees);
        bool Busy(ResolvedExit e) => e.Region == "edu-mmio" && e.Record.Access == TraceAccess.MmioRead && e.Record.Address == 0xE0000020 && e.Record.Value == 1;
        var status = Indices(qemu, Busy);
        // The middle of a poll: a busy read with busy reads right before and after it in QEMU's trace. (A lone
        // QEMU-only read just before the read both sides make is what a shorter poll looks like, whatever it
        // returned: the aligner explains it as timing, so the planted value must sit inside a longer run.)
        var inside = status.Where(i => status.Contains(i - 1) && status.Contains(i + 1)).ToList();
        if (inside.Count == 0)
        {
            // How long QEMU's guest polls is timing: where its factorial finished before a third busy read (emulated
            // CPUs), the poll is made here: the first status read, whatever it returned, read three more times on both
            // sides, so the traces still agree, then one of QEMU's copies answers otherwise.
            bool StatusRead(ResolvedExit e) => e.Region == "edu-mmio" && e.Record.Access == TraceAccess.MmioRead && e.Record.Address == 0xE0000020;
            var k = Indices(c.KvmLabTrace, StatusRead);
            var q = Indices(qemu, StatusRead);
            Assert.NotEmpty(k);
            Assert.NotEmpty(q);
            var kvmLab = WithRepeats(c.KvmLabTrace, k[0], 3);
            qemu = WithRepeats(qemu, q[0], 3);
            Assert.True(TraceAligner.Align(kvmLab, qemu).Agrees);
            var poll = q[0] + 3; // the last read of the run: no later read of the register can pass it off as a poll
            var planted = TraceAligner.Align(kvmLab, Planted(qemu, (i, r) => i == poll ? WithValue(r, 3) : r));
            Assert.False(planted.Agrees);
            Assert.Contains(planted.Divergences, r => r.Qemu?.Value == 3);
            return;
        }
        var middle = inside[inside.Count / 2];

        var a = TraceAligner.Align(c.KvmLabTrace, Planted(qemu, (i, r) => i == middle ? WithValue(r, 3) : r));
        Assert.False(a.Agrees);
        Assert.Contains(a.Divergences, r => r.Qemu?.Value == 3);
    }

    [CompareFact]
    public void An_msi_with_other_data_or_none_at_all_is_reported()
    {
        var c = Compare("edu-irq", CpuMode.Long);
        var msis = Indices(c.KvmLabTrace, e => e.Region == "kvm-apic-msi");
        Assert.NotEmpty(msis);
        Assert.All(msis, i => Assert.Equal(0xFEE00000UL, c.KvmLabTrace[i].Address));
        var qemu = c.Qemu.Trace.Trace;

        Assert.True(TraceAligner.Align(c.KvmLabTrace, qemu).Agrees);
        var data = TraceAligner.Align(Planted(c.KvmLabTrace, (i, r) => i == msis[^1] ? WithValue(r, r.Value + 1) : r), qemu);
        var dropped = TraceAligner.Align(Planted(c.KvmLabTrace, (i, r) => i == msis[0] ? null : r), qemu);
        Assert.Equal(AlignmentStatus.ValueMismatch, Assert.Single(data.Divergences).Status);
        Assert.Equal("kvm-apic-msi", Assert.Single(dropped.Divergences).Qemu!.Region);
    }

    [CompareFact]
    public void A_line_qemu_prints_among_its_piix_report_that_names_no_piix_function_is_reported()
    {
        // The space after "00:01.0" in QEMU's report becomes a newline: the rest of that line, "8086:7000 class ...",
        // is a line of its own about no function.
        var c = Compare("pci-scan", CpuMode.Real);
        var qemu = c.Qemu.Trace.Trace;
        var writes = Indices(qemu, e => e.Region == "serial" && e.Record.Access == TraceAccess.PioWrite && e.Record.Address == PcLayout.Com1Port);
        var text = string.Concat(writes.Select(i => (char)qemu[i].Value));
        var at = text.IndexOf("00:01.0 ", StringComparison.Ordinal) + 7;
        var planted = Planted(qemu, (i, r) => i == writes[at] ? WithValue(r, '\n') : r);
        var plantedText = text[..at] + "\n" + text[(at + 1)..];

        var a = TraceAligner.Align(c.KvmLabTrace, planted);
        Assert.False(a.Agrees);
        Assert.All(a.Divergences, r => Assert.Equal("serial", r.Qemu!.Region));
        var lines = SerialComparison.Compare(c.KvmLabSerial, plantedText, a);
        Assert.Equal("8086:7000 class 060100 header 80", Assert.Single(lines, l => l.Status == SerialLineStatus.Differs).Qemu);
        Assert.Equal(SerialLineStatus.Explained, Assert.Single(lines, l => l.Qemu == "00:01.0").Status);
    }

    [CompareFact]
    public void An_unassigned_read_qemu_refused_at_another_address_is_reported()
    {
        var c = Compare("bar-move", CpuMode.Protected);
        var qemu = c.Qemu.Trace.Trace;
        var refused = Indices(qemu, e => e.Record.Flags.HasFlag(ExitFlags.Unassigned) && e.Record.Access == TraceAccess.MmioRead);
        Assert.Equal([0xE0000000UL, 0xE0100000UL], refused.Select(i => qemu[i].Address));

        Assert.True(TraceAligner.Align(c.KvmLabTrace, qemu).Agrees);
        var a = TraceAligner.Align(c.KvmLabTrace, Planted(qemu, (i, r) => i == refused[0] ? WithAddress(r, 0xE0200000) : r));
        Assert.False(a.Agrees);
        Assert.Equal(2, a.Divergences.Count());
    }
}
