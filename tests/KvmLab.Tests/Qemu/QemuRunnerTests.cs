using KvmLab.Kvm;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Tests.Qemu;

public class QemuRunnerTests
{
    // QEMU's own default (10 s), grown under emulation, where QEMU itself runs under TCG.
    private static readonly TimeSpan QemuTimeout = TestScale.Bound(TimeSpan.FromSeconds(10));

    [Fact]
    public void Q35_board_gives_qemu_its_machine_type_and_only_the_devices_q35_lacks()
    {
        var args = QemuRunner.BuildArguments("/t/bios.bin", "/t/serial.out", "/t/trace.log", new QemuRunOptions { Board = KvmLab.Boards.Board.Q35 });
        var line = string.Join(' ', args);

        Assert.Contains("-M q35 -device pcie-root-port,id=rp1,addr=01.0,chassis=1,slot=1 -device edu,id=edu,addr=02.0", line);
        // Behind the root port QEMU makes virtio-rng-pci modern-only by itself (disable-legacy=auto), as KvmLab's line does.
        Assert.Contains("-device virtio-rng-pci,id=virtio-rng,addr=04.0 -device virtio-rng-pci,id=virtio-rng-rp1,bus=rp1,addr=00.0 -bios", line);
        Assert.DoesNotContain("ICH9", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Command_line_enables_the_three_events_and_opens_no_network_or_monitor()
    {
        var args = QemuRunner.BuildArguments("/t/bios.bin", "/t/a,b/serial.out", "/t/trace.log",
            new QemuRunOptions { Timeout = QemuTimeout, Accelerator = QemuAccelerator.Tcg });
        var line = string.Join(' ', args);

        Assert.StartsWith("-accel tcg -nodefaults -m 16 -display none -nic none ", line);
        Assert.Contains("-M pc -device edu,id=edu,addr=02.0 -device pci-testdev,id=pci-testdev,addr=03.0", line);
        Assert.Contains("-serial file:/t/a,,b/serial.out", line);
        Assert.Contains("-device isa-debug-exit,iobase=0x501,iosize=2", line);
        Assert.Contains("-bios /t/bios.bin -D /t/trace.log", line);
        Assert.EndsWith("-trace kvm_run_exit -trace memory_region_ops_read -trace memory_region_ops_write", line);
        foreach (var listener in new[] { "-netdev", "-vnc", "-gdb", "-monitor", "-qmp", "-chardev", " -s " })
            Assert.DoesNotContain(listener, line);
    }

    [Fact]
    public void A_missing_qemu_is_reported_with_the_install_command()
    {
        var e = Assert.Throws<QemuNotFoundException>(() => new QemuRunner("/nonexistent/qemu-system-x86_64"));
        Assert.Contains("apt-get install qemu-system-x86", e.Message);
    }

    [QemuFact]
    public void Images_that_are_not_whole_64k_blocks_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new QemuRunner().Run(new byte[0x1000]));
        Assert.Contains("0x1000", e.Message);
    }

    [QemuFact]
    public void Hello_under_kvm_prints_hi_and_exits_through_debug_exit()
    {
        var r = new QemuRunner().Run(BiosImages.Hello(), new QemuRunOptions { Timeout = QemuTimeout });

        Assert.False(r.TimedOut, r.StandardError);
        Assert.Equal("hi\n", r.SerialText);
        Assert.Equal((0x21 << 1) | 1, r.ExitCode);
        Assert.Equal(0x21, r.IsaDebugExitValue);
        Assert.Equal(0, r.Trace.MalformedLines);
        Assert.True(r.Trace.KvmExits >= 11);
        var t = r.Trace.Trace;
        var conf = Enumerable.Range(0, t.Count).Select(t.Resolve).Where(e => e.Region == "pci-conf-data").ToList();
        Assert.Equal([0x12378086UL, 0x11E81234UL], conf.Select(e => e.Record.Value));
        Assert.All(conf, e => Assert.Equal(ExitReason.Io, e.Record.Reason));
    }

    [QemuFact]
    public void Hello_under_tcg_gives_the_same_output_without_kvm_exits()
    {
        var r = new QemuRunner().Run(BiosImages.Hello(), new QemuRunOptions
        {
            Timeout = QemuTimeout, Accelerator = QemuAccelerator.Tcg, Board = KvmLab.Boards.Board.Pc.Without("edu"),
        });

        Assert.Equal("hi\n", r.SerialText);
        Assert.Equal(0x21, r.IsaDebugExitValue);
        Assert.Equal(0, r.Trace.KvmExits);
        // A board without edu: QEMU gets no -device edu, and 00:02.0 is empty: all-ones.
        var conf = r.Trace.Trace.Where(x => x.Access == TraceAccess.PioRead && x.Address == 0xCFC).Select(x => x.Value);
        Assert.Equal([0x12378086UL, 0xFFFFFFFFUL], conf);
    }

    [QemuFact]
    public void A_guest_that_never_exits_is_killed_at_the_deadline()
    {
        var r = new QemuRunner().Run(BiosImages.Spin(), new QemuRunOptions { Timeout = TimeSpan.FromSeconds(1) });

        Assert.True(r.TimedOut);
        Assert.Null(r.IsaDebugExitValue);
        Assert.Empty(r.Serial);
        Assert.InRange(r.Elapsed, TimeSpan.FromSeconds(1), TestScale.Bound(TimeSpan.FromSeconds(30)));
    }

    [QemuFact]
    public void Qemu_answers_odd_sizes_and_unclaimed_addresses_the_same_under_kvm_and_tcg()
    {
        var runner = new QemuRunner();
        var image = ProbeImage.Build();
        var kvm = runner.Run(image, new QemuRunOptions { Timeout = QemuTimeout });
        var tcg = runner.Run(image, new QemuRunOptions { Timeout = QemuTimeout, Accelerator = QemuAccelerator.Tcg });

        Assert.Equal(0x21, kvm.IsaDebugExitValue);
        Assert.Equal(0x21, tcg.IsaDebugExitValue);
        var values = Enumerable.Range(0, kvm.Serial.Length / 4).Select(i => BitConverter.ToUInt32(kvm.Serial, i * 4)).ToArray();
        Assert.Equal(ProbeImage.Probes.Length, values.Length);
        uint[] expected =
        [
            0x010000ED, // ID
            0x55555500, // 1-byte read: edu's region takes 4..8 bytes, the memory core rejects it and reads 0
            0x55550000, // 2-byte read: same
            0xEDCBA987, // liveness: NOT of 0x12345678
            0xEDCBA987, // the rejected 1-byte write never reached the device
            0xFFFFFFFF, // a 4-byte read of an offset edu does not decode: the device's own default, all-ones
            0x00000000, // unassigned guest-physical memory reads 0 in QEMU, not all-ones
            0x55555500,
            0xFFFFFFFF, // unassigned I/O ports read all-ones
            0x555555FF,
            0xFFFFFFFF, // conf1 read of an empty slot
        ];
        Assert.Equal(expected, values);
        Assert.Equal(kvm.Serial, tcg.Serial);

        // Rejected and unassigned MMIO leave no ops trace, only the memory core's log of the refusal: the 1- and 2-byte
        // edu reads and the 1-byte edu write at their offset into edu-mmio, the two reads of 0xd0000000 at their address.
        foreach (var run in new[] { kvm, tcg })
        {
            Assert.Equal(0, run.Trace.ExitsWithoutAccess);
            var refused = Enumerable.Range(0, run.Trace.Trace.Count).Select(run.Trace.Trace.Resolve)
                .Where(e => (e.Record.Flags & (ExitFlags.Rejected | ExitFlags.Unassigned)) != 0 && e.Record.Access.IsMmio())
                .Select(e => $"{e.Record.Access.Label()} {e.Region ?? "-"} 0x{e.Record.Address:x}/{e.Record.Size}");
            Assert.Equal(["mmio-read edu-mmio 0x0/1", "mmio-read edu-mmio 0x0/2", "mmio-write edu-mmio 0x4/1",
                "mmio-read - 0xd0000000/4", "mmio-read - 0xd0000000/1"], refused);
        }
        Assert.Equal(5, kvm.Trace.InvalidAccesses);
        Assert.All(kvm.Trace.Trace.Where(r => r.Flags.HasFlag(ExitFlags.Rejected)), r => Assert.Equal(ExitReason.Mmio, r.Reason));
        Assert.Equal(2, kvm.Trace.Trace.Count(r => r.Flags.HasFlag(ExitFlags.Unassigned) && r.Access == TraceAccess.PioRead && r.Address == 0x1234));
    }
}
