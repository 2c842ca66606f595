using System.Text.Json;
using CsCheck;
using KvmLab.Kvm;
using KvmLab.Pci;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Tests.Qemu;

public class TraceAlignerTests
{
    /// <summary>Builds synthetic traces the way a run loop would record them: one exit per access.</summary>
    private sealed class Builder(string name, string serialDevice)
    {
        public ExitTrace Trace { get; } = new(name);

        public Builder Pio(string region, bool write, ulong port, int size, ulong value, ExitFlags flags = ExitFlags.None) =>
            Add(ExitReason.Io, write ? TraceAccess.PioWrite : TraceAccess.PioRead, region, "io", port, size, value, flags);

        public Builder Mmio(string region, bool write, ulong address, int size, ulong value, ExitFlags flags = ExitFlags.None) =>
            Add(ExitReason.Mmio, write ? TraceAccess.MmioWrite : TraceAccess.MmioRead, region, "memory", address, size, value, flags);

        public Builder Lsr(params ulong[] values)
        {
            foreach (var v in values) Pio("serial", false, 0x3FD, 1, v);
            return this;
        }

        public Builder Thr(char c) => Pio("serial", true, 0x3F8, 1, c);

        // The data access's record carries the function and register the host reached, as both sides record it.
        public Builder Conf(uint address, ulong value)
        {
            Pio("pci-conf-idx", true, 0xCF8, 4, address);
            var source = Trace.AddSource(new TraceRegion("pci-host", "pci-conf-data", "io", Array.Empty<string>()));
            var record = new ExitRecord(Trace.Count, ExitReason.Io, TraceAccess.PioRead, 0xCFC, 4, value, 0, ExitFlags.None, source, ExitRecord.None, 0, 0);
            Trace.Add((address & 0x8000_0000) != 0 ? record.WithConfigTarget(PciAddress.FromConfigAddress(address), (int)(address & 0xFC)) : record);
            return this;
        }

        public Builder Print(string text)
        {
            foreach (var c in text) Lsr(0x60).Thr(c);
            return this;
        }

        public Builder Msi(ulong address, uint data, int vector = 0)
        {
            var source = Trace.AddSource(new TraceRegion("edu", "kvm-apic-msi", "memory", Array.Empty<string>()));
            Trace.Add(new ExitRecord(Trace.Count, ExitReason.Unknown, TraceAccess.MmioWrite, address, 4, data, 0, ExitFlags.Observed, source, (ushort)vector, 0, 0));
            return this;
        }

        public Builder Bare(ExitReason reason)
        {
            Trace.Add(new ExitRecord(0, reason, TraceAccess.None, 0, 0, 0, 0, ExitFlags.Unassigned, ExitRecord.None, ExitRecord.None, 0, 0));
            return this;
        }

        private Builder Add(ExitReason reason, TraceAccess access, string region, string space, ulong address, int size, ulong value, ExitFlags flags)
        {
            var device = region == "serial" ? serialDevice : QemuRegions.DeviceOf(region);
            var source = Trace.AddSource(new TraceRegion(device, region, space, Array.Empty<string>()));
            Trace.Add(new ExitRecord(Trace.Count, reason, access, address, (byte)size, value, 0, flags, source, ExitRecord.None, 0, 0));
            return this;
        }
    }

    // KvmLab's UART may call itself differently: regions are what must agree.
    private static Builder KvmLab() => new("kvmlab", "uart16550");

    private static Builder Qemu() => new("qemu", "serial");

    private static Builder Hello(Builder b) => b.Lsr(0x60).Thr('h').Lsr(0x60).Thr('i').Conf(0x80000000, 0x12378086)
        .Pio("isa-debug-exit", true, 0x501, 1, 0x21);

    [Fact]
    public void Identical_traces_match_row_for_row()
    {
        var a = TraceAligner.Align(Hello(KvmLab()).Trace, Hello(Qemu()).Trace);

        Assert.Equal(7, a.Rows.Count);
        Assert.All(a.Rows, r => Assert.Equal(AlignmentStatus.Match, r.Status));
        Assert.True(a.Agrees);
        Assert.Equal("00:00.0 reg 0x00", a.Rows[5].Note);
        Assert.Equal(new RegionCount("serial", "serial", 4, 4), a.Counts.Single(c => c.Region == "serial"));
    }

    [Fact]
    public void A_different_value_is_a_mismatch_that_names_the_host_bridge_difference()
    {
        var k = KvmLab().Lsr(0x60).Thr('h').Conf(0x80000000, 0x1AB01B36).Pio("isa-debug-exit", true, 0x501, 1, 0x21);
        var q = Qemu().Lsr(0x60).Thr('h').Conf(0x80000000, 0x12378086).Pio("isa-debug-exit", true, 0x501, 1, 0x21);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        var row = Assert.Single(a.Rows, r => r.Status != AlignmentStatus.Match);
        Assert.Equal(AlignmentStatus.ValueMismatch, row.Status);
        Assert.Equal((0x1AB01B36UL, 0x12378086UL), (row.KvmLab!.Value, row.Qemu!.Value));
        Assert.Contains("i440FX (8086:1237)", row.Note);
        Assert.False(a.Agrees);
    }

    [Fact]
    public void Missing_and_extra_accesses_are_one_sided_rows_and_the_rest_still_lines_up()
    {
        var k = KvmLab().Lsr(0x60).Thr('h').Thr('!').Lsr(0x60).Thr('i');
        var q = Qemu().Lsr(0x60).Thr('h').Lsr(0x60).Thr('i').Pio("isa-debug-exit", true, 0x501, 1, 0x21);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(
            [AlignmentStatus.Match, AlignmentStatus.Match, AlignmentStatus.OnlyKvmLab, AlignmentStatus.Match, AlignmentStatus.Match, AlignmentStatus.OnlyQemu],
            a.Rows.Select(r => r.Status));
        Assert.Equal((ulong)'!', a.Rows[2].KvmLab!.Value);
        Assert.Null(a.Rows[2].Qemu);
        Assert.Equal("isa-debug-exit", a.Rows[5].Qemu!.Region);
    }

    [Fact]
    public void Polls_of_different_length_collapse_into_one_step_with_both_counts()
    {
        var k = KvmLab().Lsr(0x00, 0x00, 0x00, 0x60).Thr('h');
        var q = Qemu().Lsr(0x00, 0x60).Thr('h');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(3, a.Rows.Count);
        var poll = a.Rows[0];
        Assert.Equal(AlignmentStatus.Collapsed, poll.Status);
        Assert.Equal((3, 1), (poll.KvmLab!.Count, poll.Qemu!.Count));
        Assert.Contains("KvmLab read 0x0 3x, QEMU 1x", poll.Note);
        Assert.Equal([AlignmentStatus.Match, AlignmentStatus.Match], a.Rows.Skip(1).Select(r => r.Status));
        Assert.True(a.Agrees);
        Assert.Equal(new RegionCount("serial", "serial", 5, 3), a.Counts.Single());
    }

    [Fact]
    public void A_poll_only_one_side_needed_before_both_read_the_ready_value_is_timing()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 0);
        var q = Qemu().Mmio("edu-mmio", false, 0xE0000020, 4, 0);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal([AlignmentStatus.Collapsed, AlignmentStatus.Match], a.Rows.Select(r => r.Status));
        Assert.Equal(2, a.Rows[0].KvmLab!.Count);
        Assert.Contains("KvmLab read 0x1 2x before both read 0x0; QEMU read it at once", a.Rows[0].Note);
        Assert.True(a.Agrees);
    }

    [Fact]
    public void A_poll_that_ends_on_a_different_value_is_a_divergence()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 1);
        var q = Qemu().Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 0);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.False(a.Agrees);
        Assert.Equal(0UL, Assert.Single(a.Divergences).Qemu!.Value);
    }

    [Fact]
    public void A_value_planted_inside_a_run_of_reads_is_reported_not_collapsed_away()
    {
        // Both sides poll edu's status five times and end on 0; QEMU's second read is doctored to 7. Before, the run
        // collapsed into one step and only the last value (0 on both sides) was compared.
        var k = KvmLab();
        var q = Qemu();
        foreach (var v in new ulong[] { 1, 1, 1, 1, 0 }) k.Mmio("edu-mmio", false, 0xE0000020, 4, v);
        foreach (var v in new ulong[] { 1, 7, 1, 1, 0 }) q.Mmio("edu-mmio", false, 0xE0000020, 4, v);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.False(a.Agrees);
        Assert.Contains(a.Divergences, r => r.Qemu?.Value == 7);
        Assert.Equal(new RegionCount("edu-mmio", "edu", 5, 5), a.Counts.Single());
    }

    [Fact]
    public void A_single_read_whose_value_differs_is_a_mismatch_in_place()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000004, 4, 0xEDCBA987).Thr('x');
        var q = Qemu().Mmio("edu-mmio", false, 0xE0000004, 4, 0xEDCBA986).Thr('x');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal([AlignmentStatus.ValueMismatch, AlignmentStatus.Match], a.Rows.Select(r => r.Status));
    }

    private static ExitTrace QemuWithRefusedRead(string invalid) => QemuTraceParser.Parse($"""
        kvm_run_exit cpu_index 0, reason 6
        memory_region_ops_read cpu 0 mr 0x1 addr 0xe0000000 value 0x10000ed size 4 name 'edu-mmio'
        kvm_run_exit cpu_index 0, reason 6
        {invalid}
        kvm_run_exit cpu_index 0, reason 2
        memory_region_ops_write cpu 0 mr 0x2 addr 0x3f8 value 0x78 size 1 name 'serial'
        """).Trace;

    [Fact]
    public void A_rejected_edu_access_pairs_with_the_access_qemu_refused_in_the_same_region_with_the_same_size()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000000, 4, 0x010000ED)
            .Mmio("edu-mmio", false, 0xE0000000, 1, 0, ExitFlags.Rejected).Thr('x');
        var a = TraceAligner.Align(k.Trace, QemuWithRefusedRead("Invalid read at addr 0x0, size 1, region 'edu-mmio', reason: invalid size (min:4 max:8)"));

        Assert.True(a.Agrees, a.ToTable());
        var unclaimed = a.Rows[1];
        Assert.Equal(AlignmentStatus.Match, unclaimed.Status);
        Assert.Equal("(unclaimed) edu-mmio", unclaimed.Qemu!.Region);
        Assert.Contains("not the value", unclaimed.Note);
    }

    [Fact]
    public void Unclaimed_accesses_at_different_addresses_or_sizes_do_not_pair()
    {
        // Both sides read an address no device claims; QEMU's trace is doctored to another address, then another
        // size. Before, any unclaimed access paired with QEMU's bare exit, whatever its address.
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000000, 4, 0x010000ED).Mmio("x", false, 0xE0100000, 4, 0, ExitFlags.Unassigned).Thr('x');
        var same = TraceAligner.Align(k.Trace, QemuWithRefusedRead("Invalid read at addr 0xE0100000, size 4, region '(null)', reason: rejected"));
        var moved = TraceAligner.Align(k.Trace, QemuWithRefusedRead("Invalid read at addr 0xE0200000, size 4, region '(null)', reason: rejected"));
        var resized = TraceAligner.Align(k.Trace, QemuWithRefusedRead("Invalid read at addr 0xE0100000, size 2, region '(null)', reason: rejected"));
        var bare = TraceAligner.Align(k.Trace, QemuWithRefusedRead(""));

        Assert.True(same.Agrees, same.ToTable());
        Assert.Equal(0xE0100000UL, same.Rows[1].Qemu!.Address);
        foreach (var a in new[] { moved, resized, bare })
        {
            Assert.False(a.Agrees);
            Assert.Equal(1, a.CountOf(AlignmentStatus.OnlyKvmLab));
            Assert.Equal(1, a.CountOf(AlignmentStatus.OnlyQemu));
        }
    }

    [Fact]
    public void An_unclaimed_port_read_compares_its_value()
    {
        var k = KvmLab().Pio("x", false, 0x1234, 1, 0xFF, ExitFlags.Unassigned);
        var q = QemuTraceParser.Parse("""
            kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_read cpu 0 mr 0x1 addr 0x1234 value 0x0 size 1 name 'io'
            """).Trace;
        var row = Assert.Single(TraceAligner.Align(k.Trace, q).Rows);

        Assert.Equal(AlignmentStatus.ValueMismatch, row.Status);
    }

    [Fact]
    public void A_read_of_qemus_piix_function_is_an_explained_difference_not_a_divergence()
    {
        var k = KvmLab().Conf(0x80000800, 0xFFFFFFFF);
        var q = Qemu().Conf(0x80000800, 0x70008086);
        var a = TraceAligner.Align(k.Trace, q.Trace);
        var row = a.Rows[1];

        Assert.Equal(AlignmentStatus.Explained, row.Status);
        Assert.StartsWith("00:01.0 reg 0x00; " + KnownDifferences.PiixFunctions, row.Note);
        Assert.True(a.Agrees);
    }

    [Fact]
    public void The_guests_report_of_a_piix_function_is_explained_with_the_function_it_found()
    {
        var k = KvmLab().Conf(0x80000800, 0xFFFFFFFF).Conf(0x80001000, 0x11E81234).Thr('e');
        var q = Qemu().Conf(0x80000800, 0x70008086).Conf(0x80000908, 0x01018000).Print("00:01.1 IDE\n  BAR4\n")
            .Conf(0x80001000, 0x11E81234).Thr('e');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.True(a.Agrees, a.ToTable());
        var report = a.Rows.Where(r => r.Qemu?.Region == "serial" && r.KvmLab is null).ToList();
        Assert.Equal(38, report.Count);
        Assert.All(report, r => Assert.Equal("the guest reporting 00:01.1, QEMU's PIIX3 IDE controller (8086:7010)", r.Note));
        Assert.Equal(AlignmentStatus.Match, a.Rows[^1].Status);
    }

    [Fact]
    public void A_piix_hunk_explains_only_its_slot_1_accesses_and_the_lines_about_them()
    {
        // Planted in the same hunk as a read of QEMU's 00:01.0: a serial byte that differs, and a line QEMU alone
        // prints that names no slot-1 function. Before, one PIIX access in a hunk explained all of it.
        var k = KvmLab().Conf(0x80000800, 0xFFFFFFFF).Print("x=1\n").Conf(0x80001000, 0x11E81234);
        var q = Qemu().Conf(0x80000800, 0x70008086).Print("x=2\n").Conf(0x80001000, 0x11E81234);
        var mismatch = TraceAligner.Align(k.Trace, q.Trace);
        var extra = TraceAligner.Align(KvmLab().Conf(0x80000800, 0xFFFFFFFF).Conf(0x80001000, 0x11E81234).Trace,
            Qemu().Conf(0x80000800, 0x70008086).Print("hello\n").Conf(0x80001000, 0x11E81234).Trace);

        var serial = Assert.Single(mismatch.Divergences);
        Assert.Equal(AlignmentStatus.ValueMismatch, serial.Status);
        Assert.Equal(((ulong)'1', (ulong)'2'), (serial.KvmLab!.Value!.Value, serial.Qemu!.Value!.Value));
        Assert.Equal(AlignmentStatus.Explained, mismatch.Rows[1].Status);
        Assert.False(extra.Agrees);
        Assert.Equal(12, extra.CountOf(AlignmentStatus.OnlyQemu));
        var lines = SerialComparison.Compare("", "hello\n", extra);
        Assert.Equal(SerialLineStatus.Differs, Assert.Single(lines).Status);
    }

    [Fact]
    public void A_piix_difference_does_not_excuse_a_divergence_at_another_device_in_the_same_hunk()
    {
        var k = KvmLab().Conf(0x80000800, 0xFFFFFFFF).Mmio("edu-mmio", false, 0xE0000000, 4, 0x010000ED);
        var q = Qemu().Conf(0x80000800, 0x70008086).Mmio("edu-mmio", false, 0xE0000000, 4, 0x0100ED00);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.False(a.Agrees);
        var divergence = Assert.Single(a.Divergences);
        Assert.Equal(AlignmentStatus.ValueMismatch, divergence.Status);
        Assert.Equal("edu-mmio", divergence.KvmLab!.Region);
        Assert.Equal(AlignmentStatus.Explained, a.Rows[1].Status);
    }

    [Fact]
    public void A_config_access_pairs_only_with_one_to_the_same_function_and_register()
    {
        var k = KvmLab().Conf(0x80001000, 0x11E81234);
        var q = Qemu().Conf(0x80001800, 0x00051B36);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(2, a.CountOf(AlignmentStatus.OnlyKvmLab));
        Assert.Equal(2, a.CountOf(AlignmentStatus.OnlyQemu));
    }

    [Fact]
    public void Qemus_firmware_stub_ahead_of_the_payload_is_explained_but_the_same_access_later_is_not()
    {
        var k = KvmLab().Thr('h');
        var q = Qemu().Pio("port92", false, 0x92, 1, 0).Pio("port92", true, 0x92, 1, 2).Thr('h').Pio("port92", false, 0x92, 1, 2);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal([AlignmentStatus.Explained, AlignmentStatus.Explained, AlignmentStatus.Match, AlignmentStatus.OnlyQemu], a.Rows.Select(r => r.Status));
        Assert.Contains(KnownDifferences.FirmwareStub, a.Rows[0].Note);
        Assert.False(a.Agrees);
    }

    [Fact]
    public void Json_carries_rows_counts_and_hex_addresses()
    {
        var k = KvmLab().Lsr(0x00, 0x00, 0x60).Thr('h');
        var q = Qemu().Lsr(0x00, 0x60).Thr('h').Pio("isa-debug-exit", true, 0x501, 1, 0x21);
        using var doc = JsonDocument.Parse(TraceAligner.Align(k.Trace, q.Trace).ToJson());
        var root = doc.RootElement;

        Assert.Equal(1, root.GetProperty("summary").GetProperty("Collapsed").GetInt32());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("OnlyQemu").GetInt32());
        var rows = root.GetProperty("rows");
        Assert.Equal("0x3fd", rows[0].GetProperty("kvmlab").GetProperty("address").GetString());
        Assert.Equal(2, rows[0].GetProperty("kvmlab").GetProperty("count").GetInt32());
        Assert.Equal("0x0", rows[0].GetProperty("kvmlab").GetProperty("values").GetString());
        Assert.Equal(JsonValueKind.Null, rows[3].GetProperty("kvmlab").ValueKind);
        Assert.Equal(2, root.GetProperty("counts").GetArrayLength());
    }

    [Fact]
    public void Table_lists_every_row_and_the_region_counts()
    {
        var a = TraceAligner.Align(KvmLab().Lsr(0x00, 0x00, 0x60).Thr('h').Trace, Qemu().Lsr(0x60).Thr('h').Trace);
        var table = a.ToTable();

        Assert.Contains("pio-read serial 0x03fd/1 x2 (0x0)", table);
        Assert.Contains("pio-write serial 0x03f8/1 = 0x68", table);
        Assert.Contains("Collapsed", table);
        Assert.Contains("serial               serial                4       2", table);
    }

    [Fact]
    public void Msis_compare_like_any_access_on_both_sides()
    {
        // KvmLab records each MSI it signals; QEMU's memory API traces the store (no exit behind it).
        Builder Qemu(uint data) => TraceAlignerTests.Qemu().Mmio("edu-mmio", true, 0xE0000060, 4, 1).Msi(0xFEE00000, data).Thr('x');
        var k = KvmLab().Mmio("edu-mmio", true, 0xE0000060, 4, 1).Msi(0xFEE00000, 0x40).Thr('x');
        var same = TraceAligner.Align(k.Trace, Qemu(0x40).Trace);
        var planted = TraceAligner.Align(k.Trace, Qemu(0x41).Trace);
        var missing = TraceAligner.Align(KvmLab().Mmio("edu-mmio", true, 0xE0000060, 4, 1).Thr('x').Trace, Qemu(0x40).Trace);

        Assert.True(same.Agrees, same.ToTable());
        Assert.Equal("kvm-apic-msi", same.Rows[1].KvmLab!.Region);
        Assert.Equal(AlignmentStatus.ValueMismatch, Assert.Single(planted.Divergences).Status);
        Assert.Equal(AlignmentStatus.OnlyQemu, Assert.Single(missing.Divergences).Status);
    }

    [Fact]
    public void The_same_msi_at_another_place_among_the_guests_accesses_is_timing_but_another_message_is_not()
    {
        // A doorbell completed through an ioeventfd: each VMM sends the MSI when its own loop gets to it, so it lands
        // between different guest accesses; the message itself must be the same, and in the same order.
        var k = KvmLab().Mmio("edu-mmio", true, 0xE0000060, 4, 1).Msi(0xFEE00000, 0x50).Thr('x').Thr('y');
        Builder Qemu(uint data) => TraceAlignerTests.Qemu().Mmio("edu-mmio", true, 0xE0000060, 4, 1).Thr('x').Msi(0xFEE00000, data).Thr('y');

        var moved = TraceAligner.Align(k.Trace, Qemu(0x50).Trace);
        var other = TraceAligner.Align(k.Trace, Qemu(0x51).Trace);

        Assert.True(moved.Agrees, moved.ToTable());
        Assert.Equal(2, moved.Rows.Count(r => r.Status == AlignmentStatus.Explained && r.Note == KnownDifferences.MsiTiming));
        Assert.False(other.Agrees);
        Assert.Contains(other.Divergences, r => r.KvmLab?.Region == "kvm-apic-msi");
    }

    [Fact]
    public void Qemus_apic_msi_region_under_tcg_pairs_with_kvmlabs_msi()
    {
        var k = KvmLab().Msi(0xFEE00000, 0x40);
        var q = Qemu().Mmio("apic-msi", true, 0xFEE00000, 4, 0x40);

        Assert.Equal(AlignmentStatus.Match, Assert.Single(TraceAligner.Align(k.Trace, q.Trace).Rows).Status);
    }

    [Fact]
    public void Qemu_activity_ahead_of_the_guest_is_reset_activity_only_while_no_vcpu_exit_preceded_it()
    {
        // An MSI write from no vCPU ahead of the payload is QEMU's reset; the same write after QEMU's vCPU has
        // exited (a doctored trace: a HLT exit first) is not. Before, any leading QEMU-only access was reset activity.
        const string write = "memory_region_ops_write cpu -1 mr 0x1 addr 0xfee00000 value 0x0 size 4 name 'apic-msi'\n";
        const string serial = "kvm_run_exit cpu_index 0, reason 2\nmemory_region_ops_write cpu 0 mr 0x2 addr 0x3f8 value 0x78 size 1 name 'serial'\n";
        var k = KvmLab().Thr('x');
        var atReset = TraceAligner.Align(k.Trace, QemuTraceParser.Parse(write + serial).Trace);
        var afterExit = TraceAligner.Align(k.Trace, QemuTraceParser.Parse("kvm_run_exit cpu_index 0, reason 5\n" + write + serial).Trace);

        Assert.True(atReset.Agrees, atReset.ToTable());
        Assert.Equal(KnownDifferences.QemuResetActivity, atReset.Rows[0].Note);
        Assert.False(afterExit.Agrees);
        Assert.Equal(AlignmentStatus.OnlyQemu, afterExit.Rows[0].Status);
    }

    [Fact]
    public void A_line_of_qemus_trace_that_cannot_be_read_is_a_divergence_where_it_was()
    {
        // The second serial write is cut off (as when QEMU is killed mid-line). Before, the parser dropped it and
        // the alignment agreed on what was left.
        var k = KvmLab().Thr('a');
        var q = QemuTraceParser.Parse("""
            kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_write cpu 0 mr 0x2 addr 0x3f8 value 0x61 size 1 name 'serial'
            kvm_run_exit cpu_index 0, reason 2
            memory_region_ops_write cpu 0 mr 0x2 addr 0x3f8 value 0x
            """);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(1, q.MalformedLines);
        Assert.False(a.Agrees);
        var row = Assert.Single(a.Divergences, r => r.Qemu?.Region == "(unreadable)");
        Assert.Equal(AlignmentStatus.OnlyQemu, row.Status);
        Assert.Contains("line 4 of the trace", row.Note);
    }

    [Fact]
    public void Real_kvm_and_tcg_traces_differ_only_by_qemus_reset_msi_write()
    {
        var kvm = QemuTraceParser.Parse(CapturedTraces.HelloKvm, "kvm").Trace;
        var tcg = QemuTraceParser.Parse(CapturedTraces.HelloTcg, "tcg").Trace;
        var a = TraceAligner.Align(kvm, tcg);

        var odd = Assert.Single(a.Rows, r => r.Status != AlignmentStatus.Match);
        Assert.Equal(AlignmentStatus.Explained, odd.Status);
        Assert.Equal("apic-msi", odd.Qemu!.Region);
        Assert.Null(odd.KvmLab);
        Assert.Equal(KnownDifferences.QemuResetActivity, odd.Note);
    }

    [Fact]
    public void Traces_too_different_to_align_still_report_every_access()
    {
        var k = KvmLab();
        var q = Qemu();
        for (var i = 0; i < TraceAligner.MaxEdits; i++)
        {
            k.Pio("serial", true, 0x3F8, 1, 1);
            q.Pio("isa-debug-exit", true, 0x501, 1, 1);
        }
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(TraceAligner.MaxEdits, a.CountOf(AlignmentStatus.OnlyKvmLab));
        Assert.Equal(TraceAligner.MaxEdits, a.CountOf(AlignmentStatus.OnlyQemu));
    }

    [Fact]
    public void Alignment_keeps_both_traces_in_order_and_pairs_a_longest_common_subsequence()
    {
        Gen.Int[0, 3].Array[0, 40].Select(Gen.Int[0, 3].Array[0, 40]).Sample((ks, qs) =>
        {
            var k = KvmLab();
            var q = Qemu();
            foreach (var x in ks) k.Pio("serial", true, 0x3F8 + (ulong)x, 1, 0);
            foreach (var x in qs) q.Pio("serial", true, 0x3F8 + (ulong)x, 1, 0);
            var rows = TraceAligner.Align(k.Trace, q.Trace).Rows;

            Assert.Equal(Enumerable.Range(0, ks.Length), rows.Where(r => r.KvmLab is not null).Select(r => r.KvmLab!.FirstIndex));
            Assert.Equal(Enumerable.Range(0, qs.Length), rows.Where(r => r.Qemu is not null).Select(r => r.Qemu!.FirstIndex));
            var pairs = rows.Where(r => r.KvmLab is not null && r.Qemu is not null).ToList();
            Assert.All(pairs, r => Assert.Equal(r.KvmLab!.Address, r.Qemu!.Address));
            Assert.Equal(LcsLength(ks, qs), pairs.Count);
        });
    }

    private static int LcsLength(int[] a, int[] b)
    {
        var t = new int[a.Length + 1, b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                t[i, j] = a[i - 1] == b[j - 1] ? t[i - 1, j - 1] + 1 : Math.Max(t[i - 1, j], t[i, j - 1]);
        return t[a.Length, b.Length];
    }
}
