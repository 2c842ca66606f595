using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Tests.Machine;

public class MachineTests
{
    private static readonly byte[] PrintAThenDebugExit2 =
    {
        0xBA, 0xF8, 0x03, // mov dx, 0x3f8
        0xB0, 0x41,       // mov al, 'A'
        0xEE,             // out dx, al
        0xBA, 0x01, 0x05, // mov dx, 0x501
        0xB0, 0x02,       // mov al, 2
        0xEE,             // out dx, al
        0xF4,             // hlt
    };

    // A slow host (emulation) may also see the run loop's periodic halt check, an INTR exit with no access: the
    // claims below are about device accesses and the exits they cost.
    private static List<ResolvedExit> DeviceAccesses(KvmLab.Machine m) =>
        Enumerable.Range(0, m.Trace.Count).Select(m.Trace.Resolve).Where(e => e.Record.Access != TraceAccess.None).ToList();

    private static int DeviceExits(KvmLab.Machine m) => m.Trace.Count(r => r.IsExit && r.Access != TraceAccess.None);

    private static GuestImage Real(byte[] code) => new("test", code, PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real);

    private static GuestImage Protected(byte[] code) => new("test", code, PcLayout.DefaultFlatLoadAddress, PcLayout.DefaultFlatLoadAddress, CpuMode.Protected);

    // 32-bit code: EAX to isa-debug-exit, then HLT.
    private static readonly byte[] ExitWithEax =
    [
        0x66, 0xBA, 0x01, 0x05, // mov dx, 0x501
        0xEF,                   // out dx, eax
        0xF4,
    ];

    // q35 with PCIEXBAR enabled as firmware leaves it; pc has no ECAM at all.
    private static KvmLab.Machine BootQ35WithEcam(byte[] code)
    {
        var m = KvmLab.Machine.Boot(Protected(code), new MachineOptions { Board = KvmLab.Boards.Board.Q35 });
        m.Pci.WriteConfig(0, 0, KvmLab.Pci.Q35.Q35HostBridge.PciExBar, 4, (uint)PcLayout.EcamBase | 1);
        return m;
    }

    // 32-bit code: CONFIG_ADDRESS <- configAddress, then an IN from the data port (a dword, or a byte into AL).
    private static byte[] Conf1In(uint configAddress, ushort dataPort, bool dword) =>
    [
        0xB8, .. BitConverter.GetBytes(configAddress), // mov eax, configAddress
        0x66, 0xBA, 0xF8, 0x0C,                         // mov dx, 0xcf8
        0xEF,                                           // out dx, eax
        0x66, 0xBA, (byte)dataPort, (byte)(dataPort >> 8), // mov dx, dataPort
        dword ? (byte)0xED : (byte)0xEC,                // in eax, dx / in al, dx
    ];

    [KvmFact]
    public void Debug_exit_ends_the_run_with_QEMU_status_and_serial_output()
    {
        using var m = KvmLab.Machine.Boot(Real(PrintAThenDebugExit2));
        var result = m.Run();
        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.Equal(5UL, result.ExitStatus);
        Assert.Equal("A", m.SerialOutput);
        // Device accesses only: a slow first run may also see the run loop's periodic halt check (an INTR exit).
        var accesses = Enumerable.Range(0, m.Trace.Count).Select(m.Trace.Resolve).Where(e => e.Record.Access != TraceAccess.None).ToList();
        Assert.Equal(2, accesses.Count);
        var first = accesses[0];
        Assert.Equal("serial", first.Device);
        Assert.Equal(TraceAccess.PioWrite, first.Record.Access);
        Assert.Equal(0x3f8UL, first.Record.Address);
        Assert.Equal(0x41UL, first.Record.Value);
        Assert.Equal(BackendRules.Rip(BackendRules.Out, PcLayout.DefaultRealModeLoadAddress + 5 - 0x10000, 1), first.Record.Rip & 0xffff);
        var last = accesses[1];
        Assert.Equal("isa-debug-exit", last.Device);
        Assert.True(last.Record.Flags.HasFlag(ExitFlags.EndsRun));
    }

    [KvmFact]
    public void Step_takes_exactly_one_exit_and_names_the_device()
    {
        using var m = KvmLab.Machine.Boot(Real(PrintAThenDebugExit2));
        var e = m.Step();
        Assert.Equal(ExitReason.Io, m.LastExit.Reason);
        Assert.Equal("serial", e.Device);
        Assert.Equal("serial", e.Region);
        Assert.Single(m.Trace, r => r.Access != TraceAccess.None);
        Assert.Equal(StopReason.Stepped, m.LastStop);
        m.Step();
        Assert.Equal(StopReason.IsaDebugExit, m.LastStop);
    }

    [KvmFact]
    public void Hlt_with_interrupts_off_is_seen_as_a_halt_with_the_in_kernel_irqchip()
    {
        using var m = KvmLab.Machine.Boot(Real(new byte[] { 0xFA, 0xF4 }));
        var result = m.Run(TimeSpan.FromSeconds(5));
        Assert.Equal(StopReason.Halted, result.Reason);
        var last = m.Trace.Resolve(m.Trace.Count - 1);
        Assert.Equal(ExitReason.Hlt, last.Record.Reason);
        Assert.True(last.Record.Flags.HasFlag(ExitFlags.Observed));
    }

    [KvmFact]
    public void Hlt_exits_to_user_space_without_the_in_kernel_irqchip()
    {
        using var m = KvmLab.Machine.Boot(Real(new byte[] { 0xFA, 0xF4 }), new MachineOptions { InKernelIrqchip = false });
        var result = m.Run(TimeSpan.FromSeconds(5));
        Assert.Equal(StopReason.Halted, result.Reason);
        Assert.Equal(ExitReason.Hlt, m.LastExit.Reason);
        Assert.Single(m.Trace);
    }

    [KvmFact]
    public void A_guest_that_never_exits_is_stopped_at_the_deadline()
    {
        using var m = KvmLab.Machine.Boot(Real(new byte[] { 0xEB, 0xFE }));
        var result = m.Run(TimeSpan.FromMilliseconds(200));
        Assert.Equal(StopReason.Timeout, result.Reason);
        Assert.InRange(result.Elapsed.TotalMilliseconds, 150, 2000);
        // The machine stays usable: the next run stops on time too.
        Assert.Equal(StopReason.Timeout, m.Run(TimeSpan.FromMilliseconds(50)).Reason);
    }

    [KvmFact]
    public void Cancellation_stops_a_running_guest()
    {
        using var m = KvmLab.Machine.Boot(Real(new byte[] { 0xEB, 0xFE }));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var result = m.Run(new RunOptions { Cancellation = cts.Token, Timeout = TimeSpan.FromSeconds(30) });
        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(5));
    }

    [KvmFact]
    public void Conf1_read_of_edu_identity_reaches_the_guest()
    {
        byte[] code = [.. Conf1In(0x80001000, 0xCFC, dword: true), .. ExitWithEax]; // 00:02.0 reg 0
        using var m = KvmLab.Machine.Boot(Protected(code));
        var result = m.Run();
        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        // isa-debug-exit is two ports wide: the dword OUT is split and the device sees the low word, as in QEMU.
        Assert.Equal((0x1234UL << 1) | 1, result.ExitStatus);
        var read = DeviceAccesses(m)[1];
        Assert.Equal(TraceAccess.PioRead, read.Record.Access);
        Assert.Equal("pci-conf-data", read.Region);
        Assert.Equal(0x11e81234UL, read.Record.Value);
    }

    [KvmFact]
    public void Ecam_read_of_edu_identity_is_an_mmio_exit()
    {
        byte[] code = [0xA1, 0x00, 0x00, 0x01, 0xB0, .. ExitWithEax]; // mov eax, [0xB0010000] (ECAM 00:02.0 reg 0)
        using var m = BootQ35WithEcam(code);
        var result = m.Run();
        Assert.Equal((0x1234UL << 1) | 1, result.ExitStatus);
        var read = DeviceAccesses(m)[0];
        Assert.Equal(0x11e81234UL, read.Record.Value);
        Assert.Equal(ExitReason.Mmio, read.Record.Reason);
        Assert.Equal(TraceAccess.MmioRead, read.Record.Access);
        Assert.Equal(0xB0010000UL, read.Record.Address);
        Assert.Equal(PcLayout.DefaultFlatLoadAddress, read.Record.Rip);
    }

    [KvmFact]
    public void Each_config_access_record_carries_the_function_and_register_the_host_reached()
    {
        byte[] code =
        [
            .. Conf1In(0x00001800, 0xCFC, dword: true),  // enable bit clear: no cycle
            .. Conf1In(0x80001008, 0xCFE, dword: false), // 00:02.0 reg 8, byte lane 2: reg 0x0a
            0xA1, 0x04, 0x80, 0x01, 0xB0, // mov eax, [0xB0018004] (ECAM 00:03.0 reg 4)
            .. ExitWithEax,
        ];
        using var m = BootQ35WithEcam(code);
        // A cycle the host performed outside the run loop is no record's: the guest's first data access has none.
        m.Io.Write(PcLayout.PciConfigAddressPort, 4, 0x80000000);
        m.Io.Read(PcLayout.PciConfigDataPort, 4, out _);
        m.Run();

        // The guest's accesses only: an interrupted KVM_RUN (a halt check's kick, often under emulation) adds records without one.
        var accesses = m.Trace.Where(r => r.Access != TraceAccess.None).ToList();
        var targets = accesses.Select(r => r.TryGetConfigTarget(out var f, out var reg) ? $"{f} reg 0x{reg:x2}" : null).ToList();
        Assert.Equal([null, null, null, "00:02.0 reg 0x0a", "00:03.0 reg 0x04", null], targets);
        // The value is the one the guest saw, whole, next to the target: the class code's byte.
        Assert.Equal(0xFFFFFFFFUL, accesses[1].Value);
        Assert.Equal(0xFFUL, accesses[3].Value);
        Assert.Equal(ExitFlags.ConfigCycle, accesses[3].Flags);
    }

    [KvmFact]
    public void Recording_the_config_target_of_each_access_allocates_nothing_per_exit()
    {
        byte[] code = [.. Conf1In(0x80001000, 0xCFC, dword: true), 0xEB, 0xFD]; // then: jmp back to the in
        using var m = KvmLab.Machine.Boot(Protected(code), new MachineOptions { Tracing = true, TraceCapacity = 100_000 });
        m.Run(new RunOptions { MaxExits = 1_000 });

        // A run itself allocates its result; the exits in it must not: a run ten times longer allocates no more.
        // Best of three: a round may catch the runtime's own one-off work.
        long Allocated(long exits)
        {
            var fewest = long.MaxValue;
            for (var round = 0; round < 3; round++)
            {
                m.Trace.Clear();
                var before = GC.GetAllocatedBytesForCurrentThread();
                m.Run(new RunOptions { MaxExits = exits });
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            return fewest;
        }
        var shortRun = Allocated(2_000);
        var longRun = Allocated(20_000);

        Assert.Equal(shortRun, longRun);
        Assert.True(m.Trace[^1].TryGetConfigTarget(out var function, out var register));
        Assert.Equal(("00:02.0", 0), (function.ToString(), register));
    }

    [KvmFact]
    public void Pc_board_has_no_ecam_so_the_same_read_is_unassigned()
    {
        var code = new byte[]
        {
            0xA1, 0x00, 0x00, 0x01, 0xB0, // mov eax, [0xB0010000]
            0x66, 0xBA, 0x01, 0x05,       // mov dx, 0x501
            0xEF,                         // out dx, eax
            0xF4,
        };
        using var m = KvmLab.Machine.Boot(Protected(code));
        m.Run();
        var read = Enumerable.Range(0, m.Trace.Count).Select(m.Trace.Resolve).First(r => r.Record.Access == TraceAccess.MmioRead);
        Assert.True(read.Record.Flags.HasFlag(ExitFlags.Unassigned), read.ToString());
        Assert.Null(m.Pci.EcamRegion);
    }

    [KvmFact]
    public void Unassigned_mmio_reads_zero_and_is_flagged()
    {
        var code = new byte[]
        {
            0xA1, 0x00, 0x00, 0x00, 0xD0, // mov eax, [0xD0000000]
            0x66, 0xBA, 0x01, 0x05, 0xEF, 0xF4,
        };
        using var m = KvmLab.Machine.Boot(Protected(code));
        var result = m.Run();
        Assert.Equal(1UL, result.ExitStatus);
        Assert.True(DeviceAccesses(m)[0].Record.Flags.HasFlag(ExitFlags.Unassigned));
        Assert.Equal("unassigned", DeviceAccesses(m)[0].Target);
    }

    [KvmFact]
    public void Triple_fault_is_a_shutdown_not_an_exception()
    {
        // ud2 with an empty IDT: #UD cannot be delivered, nor the #DF that follows -> triple fault.
        using var m = KvmLab.Machine.Boot(Protected(new byte[] { 0x0F, 0x0B }));
        var sregs = m.Vcpu.GetSpecialRegisters();
        sregs.Idt.Limit = 0;
        m.Vcpu.SetSpecialRegisters(sregs);
        var result = m.Run(TimeSpan.FromSeconds(5));
        Assert.Equal(StopReason.Shutdown, result.Reason);
        Assert.Contains("triple fault", result.Detail);
    }

    [KvmFact]
    public void Exit_limit_and_condition_end_a_run()
    {
        var loop = new byte[] { 0xBA, 0xF8, 0x03, 0xB0, 0x2E, 0xEE, 0xEB, 0xFD }; // mov dx,0x3f8; mov al,'.'; l: out dx,al; jmp l
        using var m = KvmLab.Machine.Boot(Real(loop));
        var limited = m.Run(new RunOptions { MaxExits = 100 });
        Assert.Equal(StopReason.ExitLimit, limited.Reason);
        Assert.Equal(100, limited.Exits);
        var seen = 0;
        var until = m.Run(new RunOptions { Until = (in ExitRecord r) => ++seen == 7 });
        Assert.Equal(StopReason.Condition, until.Reason);
        Assert.Equal(7, until.Exits);
    }

    [KvmFact]
    public void Ram_mapped_over_a_device_makes_its_exits_vanish()
    {
        // Ten reads of ECAM 00:02.0 then debug-exit.
        var body = new List<byte>();
        for (var i = 0; i < 10; i++) body.AddRange(new byte[] { 0xA1, 0x00, 0x00, 0x01, 0xB0 });
        body.AddRange(new byte[] { 0x66, 0xBA, 0x01, 0x05, 0xEF, 0xF4 });
        using var before = KvmLab.Machine.Boot(Protected(body.ToArray()));
        before.Run();
        Assert.Equal(11, DeviceExits(before));

        using var after = KvmLab.Machine.Boot(Protected(body.ToArray()));
        after.MapRam(0xB0010000, 0x1000);
        var result = after.Run();
        Assert.Equal(1, DeviceExits(after));
        Assert.Equal(1UL, result.ExitStatus); // RAM reads 0, so eax = 0
    }

    [KvmFact]
    public void Options_are_validated_with_the_fix_in_the_message()
    {
        var e = Assert.Throws<ArgumentException>(() => new KvmLab.Machine(new MachineOptions { RamSize = 0xC000_0000 }));
        Assert.Contains("ECAM", e.Message);
        Assert.Throws<ArgumentException>(() => new KvmLab.Machine(new MachineOptions { RamSize = 12345 }));
    }

    [KvmFact]
    public void String_in_with_a_count_dispatches_every_element_and_completes_the_exit()
    {
        var code = new byte[]
        {
            0xB8, 0x00, 0x20,       // mov ax, 0x2000
            0x8E, 0xC0,             // mov es, ax
            0x31, 0xFF,             // xor di, di
            0xBA, 0xFD, 0x03,       // mov dx, 0x3fd (COM1 line status)
            0xB9, 0x04, 0x00,       // mov cx, 4
            0xFC,                   // cld
            0xF3, 0x6C,             // rep insb
            0x26, 0xA0, 0x03, 0x00, // mov al, [es:3]
            0xBA, 0x01, 0x05,       // mov dx, 0x501
            0xEE,                   // out dx, al
            0xF4,
        };
        using var m = KvmLab.Machine.Boot(Real(code));
        var result = m.Run();
        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        var reads = m.Trace.Where(r => r.Access == TraceAccess.PioRead).ToList();
        Assert.Equal(4, reads.Count);
        Assert.All(reads, r => Assert.Equal(0x3fdUL, r.Address));
        Assert.False(reads[0].Flags.HasFlag(ExitFlags.Continuation));
        var exitsForTheReads = reads.Count(r => r.IsExit);
        Assert.InRange(exitsForTheReads, 1, 4); // one exit with count 4 (kvm_pvm), or one per element elsewhere
        Assert.Equal((reads[3].Value << 1) | 1, result.ExitStatus);
        Assert.Equal(0x60UL, reads[3].Value & 0x60); // THRE and TEMT: the transmitter is idle
    }

    [KvmFact]
    public void A_step_into_hlt_with_interrupts_off_reports_the_observed_halt_at_its_deadline()
    {
        using var m = KvmLab.Machine.Boot(Real(new byte[] { 0xFA, 0xF4 }));
        var e = m.Step(TimeSpan.FromMilliseconds(100));
        Assert.Equal(StopReason.Halted, m.LastStop);
        Assert.Equal(ExitReason.Hlt, e.Record.Reason);
        Assert.True(e.Record.Flags.HasFlag(ExitFlags.Observed));
        Assert.Equal(1, m.ExitCount); // exactly one KVM_RUN: the one the deadline ended
    }
    [KvmFact]
    public void Coalesced_writes_are_replayed_at_the_next_exit_as_records_of_their_own_kind_and_not_as_exits()
    {
        byte[] code =
        {
            0xC7, 0x05, 0x00, 0x00, 0x00, 0xE0, 0x11, 0x00, 0x00, 0x00, // mov dword [0xE0000000], 0x11
            0xC7, 0x05, 0x04, 0x00, 0x00, 0xE0, 0x22, 0x00, 0x00, 0x00, // mov dword [0xE0000004], 0x22
            0xB0, 0x33,                                                 // mov al, 0x33
            0xE6, 0x80,                                                 // out 0x80, al
            0x66, 0xBA, 0x01, 0x05,                                     // mov dx, 0x501
            0xB0, 0x10,                                                 // mov al, 0x10
            0xEE,                                                       // out dx, al
            0xF4,                                                       // hlt
        };
        using var m = KvmLab.Machine.Boot(Protected(code));
        m.AddCoalescedMmio(PcLayout.PciMmioWindowBase, 0x1000);
        m.Vm.RegisterCoalescedMmio(0x80, 1, isPio: true);
        Assert.Equal(StopReason.IsaDebugExit, m.Run().Reason);

        var replayed = m.Trace.Where(r => r.Flags.HasFlag(ExitFlags.Coalesced)).ToList();
        Assert.Equal([(ExitReason.Mmio, TraceAccess.MmioWrite, 0xE000_0000UL, 0x11UL), (ExitReason.Mmio, TraceAccess.MmioWrite, 0xE000_0004UL, 0x22UL),
            (ExitReason.Io, TraceAccess.PioWrite, 0x80UL, 0x33UL)], replayed.Select(r => (r.Reason, r.Access, r.Address, r.Value)));
        Assert.All(replayed, r => Assert.False(r.IsExit));
        Assert.Equal(1, DeviceExits(m)); // only the debug-exit OUT left the guest
    }
}
