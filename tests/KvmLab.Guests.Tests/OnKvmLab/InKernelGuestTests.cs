using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

/// <summary>The in-kernel guest: which of its port and MMIO writes reach user space, and what the kernel counted.</summary>
public class InKernelGuestTests
{
    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Pit_pic_and_lapic_accesses_never_reach_user_space_while_port_0x80_and_the_unbacked_page_do(CpuMode mode)
    {
        using var run = GuestRun.Of(InKernelGuest.Build(mode));
        run.AssertSucceeded();

        var records = Enumerable.Range(0, run.Machine.Trace.Count).Select(i => run.Machine.Trace[i]).ToList();
        Assert.DoesNotContain(records, r => r.Access.IsPio() && r.Address is InKernelGuest.PitCommandPort or InKernelGuest.PicMaskPort);
        Assert.DoesNotContain(records, r => r.Access.IsMmio() && r.Address >= PcLayout.LocalApicBase && r.Address < PcLayout.LocalApicBase + 0x1000);
        Assert.Equal(InKernelGuest.Port80Writes, records.Count(r => r.Access == TraceAccess.PioWrite && r.Address == InKernelGuest.Port80));
        Assert.Equal(InKernelGuest.UnbackedWrites, records.Count(r => r.Access == TraceAccess.MmioWrite && r.Address == InKernelGuest.UnbackedAddress));
    }

    [KvmFact]
    public void Without_the_in_kernel_irqchip_every_one_of_those_accesses_reaches_user_space()
    {
        using var run = GuestRun.Of(InKernelGuest.Build(CpuMode.Protected), new MachineOptions { InKernelIrqchip = false });
        run.AssertSucceeded();

        var resolved = Enumerable.Range(0, run.Machine.Trace.Count).Select(i => run.Machine.Trace.Resolve(i)).ToList();
        var unassigned = resolved.Where(r => r.Device is null && r.Record.Access != TraceAccess.None).ToList();
        Assert.Equal(InKernelGuest.PitWrites + InKernelGuest.PicWrites + InKernelGuest.LapicReads + InKernelGuest.LapicEoiWrites
                     + InKernelGuest.UnbackedWrites, unassigned.Count);
        // Port 0x80 reaches user space either way and lands on its own region there, as on QEMU's pc machine.
        Assert.Equal(InKernelGuest.Port80Writes, resolved.Count(r => r.Device == "ioport80" && r.Record.Access == TraceAccess.PioWrite));
    }

    [KvmFact]
    public void The_kernel_counts_the_port_writes_it_handled_inside_as_this_backend_does()
    {
        var (delta, userIo, userMmio) = RunCounting(InKernelGuest.Build(CpuMode.Protected));
        Assert.Equal(InKernelGuest.UnbackedWrites, userMmio);
        if (KvmBackends.Current.IsHardware())
        {
            // SVM io_interception / VMX handle_io -> kvm_fast_pio counts every port exit in io_exits (arch/x86/kvm/x86.c),
            // whether kernel_pio() finished it on KVM_PIO_BUS (the PIT, the PIC) or it went on to user space.
            Assert.Equal(userIo + InKernelGuest.PitWrites + InKernelGuest.PicWrites, delta["io_exits"]);
            Assert.Equal(userMmio, delta["mmio_exits"]);
            Assert.True(delta["exits"] >= InKernelGuest.PitWrites + InKernelGuest.PicWrites + userMmio, delta.ToString());
        }
        else if (KvmBackends.Current == KvmBackend.Pvm)
        {
            // kvm_pvm (measured): port I/O goes through KVM's instruction emulator without counting io_exits; the MMIO
            // exits are counted; the emulator ran at least one instruction per port write.
            Assert.Equal(0, delta["io_exits"]);
            Assert.Equal(userMmio, delta["mmio_exits"]);
            Assert.True(delta["insn_emulation"] >= userIo + InKernelGuest.PitWrites + InKernelGuest.PicWrites, delta.ToString());
        }
        else
        {
            Assert.True(delta["exits"] > 0, delta.ToString());
        }
    }

    [KvmFact]
    public void A_guest_touching_only_user_space_devices_has_every_port_exit_counted_by_the_kernel_reach_kvmlab()
    {
        // hello writes COM1 and isa-debug-exit only: devices of KvmLab's, none on KVM_PIO_BUS.
        var (delta, userIo, _) = RunCounting(HelloGuest.Build(CpuMode.Real));
        Assert.True(userIo > 10, $"{userIo} port exits");
        Assert.Equal(0, delta["mmio_exits"]);
        if (KvmBackends.Current.IsHardware())
            Assert.Equal(userIo, delta["io_exits"]); // nothing finished inside: equal counts
        else if (KvmBackends.Current == KvmBackend.Pvm)
        {
            // Measured: kvm_pvm does not count port I/O in io_exits; its emulator ran at least one instruction per
            // port write (and its exits counter differs from the returns by one either way from run to run).
            Assert.Equal(0, delta["io_exits"]);
            Assert.True(delta["insn_emulation"] >= userIo, delta.ToString());
        }
    }

    // Runs a guest to its debug exit with the vCPU's kernel counters read around the run; counts the port and MMIO
    // exits that reached KvmLab.
    private static (KernelStatsDelta Kernel, int UserIo, int UserMmio) RunCounting(GuestImage image)
    {
        using var machine = Machine.Boot(image);
        var before = machine.KernelStats.Snapshot();
        var result = machine.Run(new RunOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(10)) });
        var delta = machine.KernelStats.Snapshot().Since(before);
        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        return (delta, machine.Trace.Count(r => r.Reason == ExitReason.Io), machine.Trace.Count(r => r.Reason == ExitReason.Mmio));
    }
}
