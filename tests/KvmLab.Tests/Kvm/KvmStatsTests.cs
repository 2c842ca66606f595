using System.Buffers.Binary;
using System.Text;
using KvmLab.Kvm;
using KvmLab.Kvm.Interop;
using KvmLab.Kvm.Stats;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

public sealed class KvmStatsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"kvmlab-stats-{Guid.NewGuid():N}.bin");

    public void Dispose() => File.Delete(_path);

    // A stats file laid out as KVM lays it out: header, id, descriptors, data; at offsets the header gives, not fixed
    // ones, so a parser that assumed them would misread it.
    private const int NameSize = 48;
    private const int IdOffset = 40, DescOffset = 100, DataOffset = 400;

    private static byte[] StatsFile(ulong exits, ulong blocking, ulong[] histogram)
    {
        var file = new byte[DataOffset + 8 * (2 + histogram.Length) + 8];
        var h = file.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], NameSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], 3);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], IdOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], DescOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], DataOffset);
        Encoding.ASCII.GetBytes("kvm-1/vcpu-0").CopyTo(file, IdOffset);
        void Desc(int i, uint flags, short exponent, ushort size, uint offset, string name)
        {
            var d = file.AsSpan(DescOffset + i * (16 + NameSize));
            BinaryPrimitives.WriteUInt32LittleEndian(d, flags);
            BinaryPrimitives.WriteInt16LittleEndian(d[4..], exponent);
            BinaryPrimitives.WriteUInt16LittleEndian(d[6..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], offset);
            Encoding.ASCII.GetBytes(name).CopyTo(d[16..]);
        }
        // The data is deliberately not in descriptor order: the histogram first, exits last.
        Desc(0, 0x000, 0, 1, (uint)(8 * (1 + histogram.Length)), "exits");
        Desc(1, 0x041, 0, 1, (uint)(8 * histogram.Length), "blocking");
        Desc(2, 0x024, -9, (ushort)histogram.Length, 0, "halt_wait_hist");
        for (var i = 0; i < histogram.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(h[(DataOffset + 8 * i)..], histogram[i]);
        BinaryPrimitives.WriteUInt64LittleEndian(h[(DataOffset + 8 * histogram.Length)..], blocking);
        BinaryPrimitives.WriteUInt64LittleEndian(h[(DataOffset + 8 * (histogram.Length + 1))..], exits);
        return file;
    }

    private KvmStatsFile Open()
    {
        var fd = Libc.open(_path, 0);
        Assert.True(fd >= 0, $"open {_path}");
        return KvmStatsFile.Parse(new KvmFileDescriptor(fd));
    }

    [Fact]
    public void The_header_descriptors_and_data_are_read_where_the_header_says_with_kind_unit_and_scale()
    {
        File.WriteAllBytes(_path, StatsFile(13, 1, [0, 2, 5, 0]));
        using var stats = Open();

        Assert.Equal("kvm-1/vcpu-0", stats.Id);
        Assert.Equal(["exits", "blocking", "halt_wait_hist"], stats.Descriptors.Select(d => d.Name));
        var hist = stats.Find("halt_wait_hist")!;
        Assert.Equal((KvmStatKind.LogHistogram, KvmStatUnit.Seconds, (short)-9, 4, false), (hist.Kind, hist.Unit, hist.Exponent, hist.Size, hist.PowerOfTwo));
        Assert.Equal((KvmStatKind.Instant, KvmStatUnit.Boolean), (stats.Find("blocking")!.Kind, stats.Find("blocking")!.Unit));
        Assert.Equal(6, stats.DataValues);
        var snapshot = stats.Read();
        Assert.Equal(13UL, snapshot["exits"]);
        Assert.Equal([0UL, 2, 5, 0], snapshot.Values("halt_wait_hist").ToArray());
        Assert.Null(stats.Find("io_exits"));
        var e = Assert.Throws<KeyNotFoundException>(() => snapshot["io_exits"]);
        Assert.Contains("exits, blocking, halt_wait_hist", e.Message);
    }

    [Fact]
    public void A_delta_counts_events_of_counters_and_histograms_and_reports_levels_as_they_are()
    {
        File.WriteAllBytes(_path, StatsFile(13, 1, [0, 2, 5, 0]));
        using var stats = Open();
        var before = stats.Read();
        File.WriteAllBytes(_path, StatsFile(26, 0, [1, 2, 7, 0]));
        var after = stats.Read();

        var delta = after.Since(before);
        Assert.Equal(13, delta["exits"]);
        Assert.Equal(3, delta["halt_wait_hist"]);
        Assert.Equal(0, delta["blocking"]);
        Assert.Equal("exits +13, halt_wait_hist +3", delta.ToString());
        Assert.Throws<ArgumentException>(() => stats.ReadInto(new ulong[2]));
    }

    [Fact]
    public void A_header_that_makes_no_sense_is_refused_with_the_reason()
    {
        var file = StatsFile(1, 0, [0]);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), 0);
        File.WriteAllBytes(_path, file);

        var e = Assert.Throws<InvalidDataException>(() => Open());
        Assert.Contains("name size 0", e.Message);
    }

    [KvmFact]
    public void A_vcpu_and_its_vm_offer_their_kernel_counters_by_their_kernel_names()
    {
        using var kvm = new KvmLab.Kvm.KvmSystem();
        using var vm = kvm.CreateVm();
        var vcpu = vm.CreateVcpu();
        using var vcpuStats = vcpu.OpenStats();
        using var vmStats = vm.OpenStats();

        Assert.Matches(@"^kvm-\d+/vcpu-0$", vcpuStats.Id);
        Assert.Matches(@"^kvm-\d+$", vmStats.Id);
        foreach (var name in new[] { "exits", "io_exits", "mmio_exits", "insn_emulation", "halt_exits" })
            Assert.Equal(KvmStatKind.Cumulative, vcpuStats.Find(name)?.Kind);
        Assert.Equal(0UL, vcpuStats.Read()["exits"]);
        Assert.NotEmpty(vmStats.Descriptors);
    }

    [KvmFact]
    public void A_run_moves_the_exit_counter()
    {
        // out 0x80, al; mov dx, 0x501; out dx, al (isa-debug-exit)
        var at = PcLayout.DefaultRealModeLoadAddress;
        using var machine = KvmLab.Machine.Boot(new GuestImage("stats", [0xE6, 0x80, 0xBA, 0x01, 0x05, 0xEE, 0xF4], at, at, CpuMode.Real));
        var before = machine.KernelStats.Snapshot();
        Assert.Equal(StopReason.IsaDebugExit, machine.Run(new RunOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(10)) }).Reason);
        var delta = machine.KernelStats.Snapshot().Since(before);

        Assert.True(delta["exits"] >= 1, delta.ToString());
        Assert.Contains("exits +", delta.ToString());
    }

    [KvmFact]
    public void A_kernel_step_is_one_exit_with_the_counters_of_its_kvm_run()
    {
        var at = PcLayout.DefaultRealModeLoadAddress;
        using var machine = KvmLab.Machine.Boot(new GuestImage("stats", [0xE6, 0x80, 0xE6, 0x80, 0xF4], at, at, CpuMode.Real));

        var first = machine.KernelStats.Step();
        var second = machine.KernelStats.Step();

        Assert.Equal(0x80UL, first.Exit.Record.Address);
        Assert.Equal(0x80UL, second.Exit.Record.Address);
        Assert.Equal(1, second.Exit.Sequence);
        // Both KVM_RUNs entered the guest and left it at least once; a signal (an INTR exit) would have been a step.
        Assert.True(first.Kernel["exits"] >= 1 && second.Kernel["exits"] >= 1, $"{first}\n{second}");
        Assert.Contains("<- kernel: ", second.ToString());
    }
}
