using KvmLab.Kvm;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Tests.Qemu;

public class QemuTraceParserTests
{
    private static List<ResolvedExit> Resolved(QemuTrace t) => Enumerable.Range(0, t.Trace.Count).Select(t.Trace.Resolve).ToList();

    [Fact]
    public void Kvm_trace_pairs_each_access_with_the_io_exit_before_it()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.HelloKvm);

        Assert.Equal(11, t.KvmExits);
        Assert.Equal(11, t.Accesses);
        Assert.Equal(0, t.AccessesWithoutExit);
        Assert.Equal(0, t.ExitsWithoutAccess);
        Assert.Equal(11, t.Trace.Count);
        Assert.All(t.Trace, r => Assert.Equal(ExitReason.Io, r.Reason));
        Assert.All(t.Trace, r => Assert.True(r.Access.IsPio()));

        var serialWrites = Resolved(t).Where(e => e.Region == "serial" && e.Record.Access == TraceAccess.PioWrite).ToList();
        Assert.Equal("hi\n", new string(serialWrites.Select(e => (char)e.Record.Value).ToArray()));
        Assert.All(serialWrites, e => Assert.Equal(0x3F8UL, e.Record.Address));
    }

    [Fact]
    public void Addresses_are_stored_absolute_as_qemu_prints_them()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.HelloKvm);
        var first = t.Trace.Resolve(0);
        Assert.Equal("serial", first.Region);
        Assert.Equal(TraceAccess.PioRead, first.Record.Access);
        Assert.Equal(0x3FDUL, first.Record.Address);
        Assert.Equal(0x60UL, first.Record.Value);

        var conf = Resolved(t).Where(e => e.Region == "pci-conf-data").Select(e => e.Record.Value).ToList();
        Assert.Equal([0x12378086UL, 0x11E81234UL], conf);
        Assert.Equal("pci-host", t.Trace.Sources.Single(s => s.Region == "pci-conf-data").Device);

        var probe = QemuTraceParser.Parse(CapturedTraces.ProbeKvmTail);
        var edu = Resolved(probe).First(e => e.Region == "edu-mmio");
        Assert.Equal((TraceAccess.MmioRead, 0xE0000000UL, 4, 0x010000EDUL), (edu.Record.Access, edu.Record.Address, edu.Record.Size, edu.Record.Value));
        Assert.Equal(("edu", "memory"), (edu.Device, probe.Trace.SourceOf(edu.Record)!.AddressSpace));
    }

    [Fact]
    public void Timestamp_prefix_gives_relative_times_and_handling_durations()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.HelloKvm);
        Assert.True(t.HasTimestamps);
        // First exit at .227933, its access at .227985: 52 us of QEMU handling, timestamp taken at the exit.
        Assert.Equal(0, t.Trace[0].TimestampNanos);
        Assert.Equal(52_000u, t.Trace[0].HandlerNanos);
        Assert.True(t.Trace[1].RunNanos > 0);
        for (var i = 1; i < t.Trace.Count; i++) Assert.True(t.Trace[i].TimestampNanos >= t.Trace[i - 1].TimestampNanos);
    }

    [Fact]
    public void Mmio_exits_without_a_region_access_become_flagged_bare_records()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.ProbeKvmTail);

        // 1- and 2-byte edu reads, a 1-byte edu write, a 1-byte edu read, two reads of unassigned 0xd0000000.
        Assert.Equal(6, t.ExitsWithoutAccess);
        var bare = t.Trace.Where(r => r.Access == TraceAccess.None).ToList();
        Assert.Equal(6, bare.Count);
        Assert.All(bare, r => Assert.Equal((ExitReason.Mmio, ExitFlags.Unassigned), (r.Reason, r.Flags)));
    }

    [Fact]
    public void Unassigned_port_reads_have_no_source_and_keep_only_the_bytes_the_guest_saw()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.ProbeKvmTail);
        var io = Resolved(t).Where(e => e.Record.Address == 0x1234).ToList();

        Assert.Equal(2, io.Count);
        Assert.All(io, e => Assert.Null(e.Device));
        Assert.All(io, e => Assert.Equal(ExitFlags.Unassigned, e.Record.Flags));
        Assert.Equal("unassigned", io[0].Target);
        Assert.Equal((4, 0xFFFFFFFFUL), (io[0].Record.Size, io[0].Record.Value));
        Assert.Equal((1, 0xFFUL), (io[1].Record.Size, io[1].Record.Value));
    }

    [Fact]
    public void Tcg_accesses_have_no_exit_and_take_their_address_space_from_the_region()
    {
        var t = QemuTraceParser.Parse(CapturedTraces.HelloTcg);

        Assert.Equal(0, t.KvmExits);
        Assert.Equal(t.Accesses, t.AccessesWithoutExit);
        Assert.All(t.Trace, r => Assert.Equal(ExitReason.Unknown, r.Reason));
        var rows = Resolved(t);
        var msi = Assert.Single(rows, e => e.Region == "apic-msi");
        Assert.Equal((TraceAccess.MmioWrite, 0xFEE00000UL), (msi.Record.Access, msi.Record.Address));
        Assert.All(rows.Where(e => e.Region is "serial" or "pci-conf-idx" or "pci-conf-data" or "isa-debug-exit"),
            e => Assert.True(e.Record.Access.IsPio()));
    }

    [Fact]
    public void Foreign_cut_and_run_together_lines_are_counted_not_fatal()
    {
        const string text = """
            qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]
            kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_write cpu 0 mr 0x5 addr 0x3f8 value 0x41 size 1 name 'serial'kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_write cpu 0 mr 0x5 addr 0x3f8 value 0x42 size 1 name 'ser
            kvm_run_exit cpu_index 0, reason 5
            memory_region_ops_read cpu 0 mr 0x5 addr 0xcfc value 0x
            """;
        var t = QemuTraceParser.Parse(text);

        Assert.Equal(6, t.Lines);
        Assert.Equal(1, t.IgnoredLines);
        Assert.Equal(2, t.MalformedLines);
        Assert.Equal(3, t.KvmExits);
        Assert.Equal(1, t.Accesses);
        Assert.False(t.HasTimestamps);
        // 'A' written; the cut line 4 leaves a record where it was; the second IO exit lost its access to it; then a
        // HLT exit and the cut line 6.
        Assert.Equal(5, t.Trace.Count);
        Assert.Equal(0x41UL, t.Trace[0].Value);
        Assert.Equal((ExitFlags.Unreadable, 4UL), (t.Trace[1].Flags, t.Trace[1].Address));
        Assert.Equal((ExitReason.Io, ExitFlags.Unassigned), (t.Trace[2].Reason, t.Trace[2].Flags));
        Assert.Equal((ExitReason.Hlt, ExitFlags.None), (t.Trace[3].Reason, t.Trace[3].Flags));
        Assert.Equal((ExitFlags.Unreadable, 6UL), (t.Trace[4].Flags, t.Trace[4].Address));
    }

    [Fact]
    public void String_io_accesses_after_the_first_are_continuations_of_one_exit()
    {
        const string text = """
            kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_write cpu 0 mr 0x5 addr 0x3f8 value 0x61 size 1 name 'serial'
            memory_region_ops_write cpu 0 mr 0x5 addr 0x3f8 value 0x62 size 1 name 'serial'
            memory_region_ops_write cpu 0 mr 0x7 addr 0xfee00000 value 0x0 size 4 name 'apic-msi'
            """;
        var t = QemuTraceParser.Parse(text);

        Assert.Equal(1, t.Continuations);
        Assert.Equal(1, t.AccessesWithoutExit);
        Assert.True(t.Trace[0].IsExit);
        Assert.Equal(ExitFlags.Continuation, t.Trace[1].Flags);
        Assert.Equal(ExitReason.Unknown, t.Trace[2].Reason);
    }
}
