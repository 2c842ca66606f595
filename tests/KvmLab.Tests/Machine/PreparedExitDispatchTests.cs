using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Pci;
using KvmLab.Tracing;

namespace KvmLab.Tests.Machine;

// The run loop's dispatch on exits prepared in a detached vCPU's kvm_run: no /dev/kvm involved, so these run anywhere.
public sealed class PreparedExitDispatchTests
{
    private const ulong EduBar = 0xE000_0000;

    private static KvmLab.Machine DetachedWithEdu()
    {
        var machine = KvmLab.Machine.CreateDetached();
        ConfigWrite(machine, PciConfig.Command, 2, PciConfig.CommandMemory);
        ConfigWrite(machine, 0x10, 4, (uint)EduBar);
        return machine;
    }

    private static void ConfigWrite(KvmLab.Machine machine, int offset, int size, uint value)
    {
        machine.Io.Write(PcLayout.PciConfigAddressPort, 4, 0x8000_0000u | (uint)PcLayout.EduSlot << 11 | (uint)(offset & 0xFC));
        machine.Io.Write((ulong)(PcLayout.PciConfigDataPort + (offset & 3)), size, value);
    }

    [Fact]
    public void A_prepared_mmio_read_reaches_edu_and_its_value_is_completed_into_kvm_run_and_traced()
    {
        using var machine = DetachedWithEdu();
        machine.Vcpu.PrepareMmio(isWrite: false, EduBar + Edu.RegIdentification, 4, 0, rip: 0x10020);

        Assert.Null(machine.DispatchPreparedExit());

        Assert.False(machine.Vcpu.IsReadPending);
        var record = Assert.Single(machine.Trace);
        Assert.Equal(TraceAccess.MmioRead, record.Access);
        Assert.Equal(Edu.Identification, record.Value);
        Assert.Equal(0x10020UL, record.Rip);
        Assert.Equal("edu", machine.LastRecord.Device);
        Assert.Equal(1, machine.ExitCount);
    }

    [Fact]
    public void A_prepared_out_and_a_queued_coalesced_write_reach_their_devices_in_guest_order()
    {
        using var machine = KvmLab.Machine.CreateDetached(coalescedReplay: true);
        ConfigWrite(machine, PciConfig.Command, 2, PciConfig.CommandMemory);
        ConfigWrite(machine, 0x10, 4, (uint)EduBar);
        machine.Vcpu.PrepareCoalesced(EduBar + Edu.RegLiveness, 4, 0x1234, isPio: false);
        machine.Vcpu.PrepareIo(IoDirection.Out, PcLayout.PciConfigAddressPort, 4, 0x8000_1000, rip: 0x10005);

        Assert.Null(machine.DispatchPreparedExit());

        Assert.Equal(2, machine.Trace.Count);
        Assert.Equal(ExitFlags.Coalesced, machine.Trace[0].Flags & ExitFlags.Coalesced);
        Assert.Equal("edu", machine.Trace.Resolve(0).Device);
        Assert.Equal(TraceAccess.PioWrite, machine.Trace[1].Access);
        Assert.Equal(0x8000_1000U, machine.Pci.ConfigAddress);
        machine.Memory.Read(EduBar + Edu.RegLiveness, 4, out var liveness);
        Assert.Equal(~0x1234u, (uint)liveness);
    }

    [Fact]
    public void A_prepared_debug_exit_stops_the_run_and_allocates_nothing_once_warm()
    {
        using var machine = KvmLab.Machine.CreateDetached(new MachineOptions { TraceCapacity = 16 });
        machine.Vcpu.PrepareDebug(1, 0x10007, 0xFFFF_4FF0, 0x400);

        Assert.Equal(StopReason.Debug, machine.DispatchPreparedExit());
        Assert.Equal(ExitReason.Debug, machine.LastRecord.Record.Reason);
        Assert.Equal(0x10007UL, machine.LastRecord.Record.Rip);

        // Early dispatches may allocate in the runtime (type loading, tiered compilation); warm ones must not, stop
        // detail included.
        for (var i = 0; i < 1000; i++) machine.DispatchPreparedExit();
        machine.Trace.Clear();
        var debugStops = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
            if (machine.DispatchPreparedExit() == StopReason.Debug) debugStops++;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10, debugStops);
        Assert.Equal(0, allocated);
    }
}
