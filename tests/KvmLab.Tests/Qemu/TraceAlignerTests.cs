using System.Text.Json;
using CsCheck;
using KvmLab.Kvm;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Tests.Qemu;

public class TraceAlignerTests
{
    /// <summary>Builds synthetic traces the way a run loop would record them: one exit per access.</summary>
    private sealed class Builder(string name, string serialDevice)
    {
        public Trace Trace { get; } = new(name);

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

        public Builder Conf(uint address, ulong value) =>
            Pio("pci-conf-idx", true, 0xCF8, 4, address).Pio("pci-conf-data", false, 0xCFC, 4, value);

        public Builder Bare(ExitReason reason)
        {
            Trace.Add(new ExitRecord(0, reason, TraceAccess.None, 0, 0, 0, 0, ExitFlags.Unassigned, ExitRecord.None, ExitRecord.None, 0, 0));
            return this;
        }

        private Builder Add(ExitReason reason, TraceAccess access, string region, string space, ulong address, int size, ulong value, ExitFlags flags)
        {
            var device = region == "serial" ? serialDevice : QemuRegions.DeviceOf(region);
            var source = Trace.AddSource(new TraceSource(device, region, space, Array.Empty<string>()));
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
        var q = Qemu().Lsr(0x60).Thr('h');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal(2, a.Rows.Count);
        var poll = a.Rows[0];
        Assert.Equal(AlignmentStatus.Collapsed, poll.Status);
        Assert.Equal((4, 1), (poll.KvmLab!.Count, poll.Qemu!.Count));
        Assert.Equal("0x0 x3, 0x60", poll.KvmLab.Values);
        Assert.Contains("KvmLab read 4x, QEMU 1x", poll.Note);
        Assert.Equal(AlignmentStatus.Match, a.Rows[1].Status);
        Assert.True(a.Agrees);
        Assert.Equal(new RegionCount("serial", "serial", 5, 2), a.Counts.Single());
    }

    [Fact]
    public void A_poll_that_ends_on_a_different_value_is_a_mismatch()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 1);
        var q = Qemu().Mmio("edu-mmio", false, 0xE0000020, 4, 1).Mmio("edu-mmio", false, 0xE0000020, 4, 0);
        var row = Assert.Single(TraceAligner.Align(k.Trace, q.Trace).Rows);

        Assert.Equal(AlignmentStatus.ValueMismatch, row.Status);
        Assert.Equal((2, 2), (row.KvmLab!.Count, row.Qemu!.Count));
    }

    [Fact]
    public void A_rejected_edu_access_pairs_with_qemus_bare_mmio_exit()
    {
        var k = KvmLab().Mmio("edu-mmio", false, 0xE0000000, 4, 0x010000ED)
            .Mmio("edu-mmio", false, 0xE0000000, 1, 0, ExitFlags.Rejected).Thr('x');
        var q = Qemu().Mmio("edu-mmio", false, 0xE0000000, 4, 0x010000ED).Bare(ExitReason.Mmio).Thr('x');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.All(a.Rows, r => Assert.Equal(AlignmentStatus.Match, r.Status));
        var unclaimed = a.Rows[1];
        Assert.Equal(TraceAligner.Unclaimed, unclaimed.KvmLab!.Region);
        Assert.Null(unclaimed.Qemu!.Address);
        Assert.Contains("only as a kvm_run_exit", unclaimed.Note);
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
        var q = Qemu().Conf(0x80000800, 0x70008086).Conf(0x80000908, 0x01018000).Lsr(0x60).Thr('i').Thr('\n')
            .Conf(0x80001000, 0x11E81234).Thr('e');
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.True(a.Agrees, a.ToTable());
        var report = a.Rows.Where(r => r.Qemu?.Region == "serial" && r.KvmLab is null).ToList();
        Assert.Equal(3, report.Count);
        Assert.All(report, r => Assert.Equal("the guest reporting 00:01.1, QEMU's PIIX3 IDE controller (8086:7010)", r.Note));
        Assert.Equal(AlignmentStatus.Match, a.Rows[^1].Status);
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
        var k = KvmLab().Lsr(0x00, 0x60).Thr('h');
        var q = Qemu().Lsr(0x60).Thr('h').Pio("isa-debug-exit", true, 0x501, 1, 0x21);
        using var doc = JsonDocument.Parse(TraceAligner.Align(k.Trace, q.Trace).ToJson());
        var root = doc.RootElement;

        Assert.Equal(1, root.GetProperty("summary").GetProperty("Collapsed").GetInt32());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("OnlyQemu").GetInt32());
        var rows = root.GetProperty("rows");
        Assert.Equal("0x3fd", rows[0].GetProperty("kvmlab").GetProperty("address").GetString());
        Assert.Equal("0x0, 0x60", rows[0].GetProperty("kvmlab").GetProperty("values").GetString());
        Assert.Equal(JsonValueKind.Null, rows[2].GetProperty("kvmlab").ValueKind);
        Assert.Equal(2, root.GetProperty("counts").GetArrayLength());
    }

    [Fact]
    public void Table_lists_every_row_and_the_region_counts()
    {
        var a = TraceAligner.Align(KvmLab().Lsr(0x00, 0x60).Thr('h').Trace, Qemu().Lsr(0x60).Thr('h').Trace);
        var table = a.ToTable();

        Assert.Contains("pio-read serial 0x03fd/1 x2 (0x0, 0x60)", table);
        Assert.Contains("pio-write serial 0x03f8/1 = 0x68", table);
        Assert.Contains("Collapsed", table);
        Assert.Contains("serial               serial                3       2", table);
    }

    [Fact]
    public void A_device_msi_that_qemu_traces_as_a_memory_write_is_explained_but_a_guest_write_there_is_not()
    {
        var k = KvmLab().Mmio("edu-mmio", true, 0xE0000008, 4, 5).Mmio("edu-mmio", false, 0xE0000024, 4, 1);
        var q = Qemu().Mmio("edu-mmio", true, 0xE0000008, 4, 5);
        var msi = q.Trace.AddSource(new TraceSource("apic", "kvm-apic-msi", "memory", Array.Empty<string>()));
        q.Trace.Add(new ExitRecord(0, ExitReason.Unknown, TraceAccess.MmioWrite, 0xFEE00000, 4, 0x40, 0, ExitFlags.None, msi, ExitRecord.None, 0, 0));
        q.Mmio("edu-mmio", false, 0xE0000024, 4, 1).Mmio("kvm-apic-msi", true, 0xFEE00000, 4, 0x40);
        var a = TraceAligner.Align(k.Trace, q.Trace);

        Assert.Equal([AlignmentStatus.Match, AlignmentStatus.Explained, AlignmentStatus.Match, AlignmentStatus.OnlyQemu], a.Rows.Select(r => r.Status));
        Assert.Equal(KnownDifferences.MsiDelivery, a.Rows[1].Note);
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
