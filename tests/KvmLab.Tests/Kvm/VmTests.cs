using KvmLab.Kvm;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

public sealed class VmTests
{
    [KvmFact]
    public void KvmReportsApiVersion12AndTheCapabilitiesKvmLabNeeds()
    {
        using var host = new KvmSystem();
        Assert.Equal(12, host.ApiVersion);
        Assert.True(host.CheckExtension(KvmCapability.UserMemory) > 0);
        Assert.True(host.VcpuMmapSize >= 4096);
        Assert.Contains(host.GetSupportedCpuid(), e => e.Function == 0x8000_0001);
    }

    [KvmFact]
    public void AnOverlappingSlotIsRejectedNamingBothRanges()
    {
        using var host = new KvmSystem();
        using var vm = host.CreateVm();
        using var ram = GuestMemory.Allocate(0, 0x4000);
        vm.AddMemorySlot(0, 0x10000, 0x4000, ram.HostAddress);
        var error = Assert.Throws<ArgumentException>(() => vm.AddMemorySlot(1, 0x12000, 0x4000, ram.HostAddress));
        Assert.Contains("slot 1 0x12000..+0x4000", error.Message);
        Assert.Contains("slot 0 0x10000..+0x4000", error.Message);
    }

    [KvmTheory]
    [InlineData(0x10800UL, 0x1000UL, 0, "page-aligned")]
    [InlineData(0x10000UL, 0x800UL, 0, "page-aligned")]
    [InlineData(0x10000UL, 0x1000UL, 8, "Host address")]
    [InlineData(0x10000UL, 0UL, 0, "size 0")]
    public void MisalignedOrEmptySlotsAreRejected(ulong gpa, ulong size, int hostOffset, string expected)
    {
        using var host = new KvmSystem();
        using var vm = host.CreateVm();
        using var ram = GuestMemory.Allocate(0, 0x2000);
        var error = Assert.Throws<ArgumentException>(() => vm.AddMemorySlot(0, gpa, size, ram.HostAddress + hostOffset));
        Assert.Contains(expected, error.Message);
    }

    [KvmFact]
    public void SlotNumbersAreLimitedByKvmCapNrMemslots()
    {
        using var host = new KvmSystem();
        using var vm = host.CreateVm();
        using var ram = GuestMemory.Allocate(0, 0x1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => vm.AddMemorySlot(vm.MaxMemorySlots, 0, 0x1000, ram.HostAddress));
    }

    [KvmFact]
    public void ARemovedSlotTurnsGuestAccessesIntoMmioExits()
    {
        // 32-bit: mov eax,[0x1000000] ; out 0x80,al ; mov eax,[0x1000000] ; hlt   (just above the 16 MiB of RAM)
        byte[] code = [0xA1, 0x00, 0x00, 0x00, 0x01, 0xE6, 0x80, 0xA1, 0x00, 0x00, 0x00, 0x01, 0xF4];
        using var m = new TestMachine(code, KvmLab.Loading.CpuMode.Protected);
        using var extra = GuestMemory.Allocate(PcLayout.DefaultRamSize, 0x1000);
        extra.Write(PcLayout.DefaultRamSize, 0x22U);
        var slot = m.Vm.MapGuestMemory(extra);
        Assert.Equal(0x22UL, m.Run().Io.Value);
        m.Vm.RemoveMemorySlot(slot.Slot);
        Assert.Equal(new MmioExit(false, PcLayout.DefaultRamSize, 4, 0), m.Run().Mmio);
    }

    [KvmFact]
    public void AnIoEventFdCountsGuestWritesWithoutExiting()
    {
        // mov dx,0x510 ; out dx,ax ; out dx,ax ; out dx,ax ; hlt
        using var m = new TestMachine([0xBA, 0x10, 0x05, 0xEF, 0xEF, 0xEF, 0xF4]);
        using var events = m.Vm.RegisterIoEventFd(0x510, 2, isPio: true);
        Assert.Equal(ExitReason.Hlt, m.Run().Reason);
        Assert.Equal(3UL, events.ReadCounter());
        Assert.Equal(0UL, events.ReadCounter());
        m.Vm.UnregisterIoEventFd(events);
    }

    [KvmFact]
    public void CoalescedWritesAreQueuedInOrderAndDrainedFromTheRing()
    {
        if (new KvmSystem().CheckExtension(KvmCapability.CoalescedMmio) == 0)
            Assert.Fail("KVM_CAP_COALESCED_MMIO is not reported by this KVM.");
        // 32-bit: mov dword [0xE0000000],1 ; mov dword [0xE0000004],2 ; out 0x80,al
        byte[] code = [0xC7, 0x05, 0x00, 0x00, 0x00, 0xE0, 0x01, 0x00, 0x00, 0x00,
            0xC7, 0x05, 0x04, 0x00, 0x00, 0xE0, 0x02, 0x00, 0x00, 0x00, 0xE6, 0x80, 0xF4];
        using var m = new TestMachine(code, KvmLab.Loading.CpuMode.Protected);
        m.Vm.RegisterCoalescedMmio(PcLayout.PciMmioWindowBase, 0x1000);
        Assert.Equal(ExitReason.Io, m.Run().Reason);
        var drained = new List<CoalescedWrite>();
        while (m.Vm.TryDequeueCoalesced(out var write))
            drained.Add(write);
        Assert.Equal([new CoalescedWrite(0xE000_0000, 4, 1, false), new CoalescedWrite(0xE000_0004, 4, 2, false)], drained);
    }

    [KvmFact]
    public void IrqLineAndMsiNeedTheIrqchipAndWorkWithIt()
    {
        using var host = new KvmSystem();
        using var vm = host.CreateVm();
        var error = Assert.Throws<KvmException>(() => vm.SetIrqLine(PcLayout.EduIrq, true));
        Assert.Contains("CreateIrqchip", error.Hint);
        vm.CreateIrqchip();
        vm.CreatePit2();
        vm.SetIrqLine(PcLayout.EduIrq, true);
        vm.SetIrqLine(PcLayout.EduIrq, false);
        vm.CreateVcpu(0);
        vm.SignalMsi(PcLayout.LocalApicBase, 0x41);
    }
}
