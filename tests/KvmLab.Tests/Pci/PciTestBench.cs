using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Devices;

namespace KvmLab.Tests.Pci;

/// <summary>
/// A host with edu at 00:02.0 and pci-testdev at 00:03.0, and helpers that speak conf1 and ECAM like a guest. The
/// host is q35's (MCH, PCIEXBAR enabled at 0xB0000000 as firmware would) unless <c>q35</c> is false: then it is pc's
/// i440FX, with no ECAM.
/// </summary>
public sealed class PciTestBench
{
    public PciTestBench(bool q35 = true)
    {
        Host = q35
            ? new PciHost(Memory, Io, Interrupts, Ram, new KvmLab.Pci.Q35.Q35HostBridge(), "q35-pcihost")
            : new PciHost(Memory, Io, Interrupts, Ram);
        if (q35)
        {
            Conf1Write(0, 0, KvmLab.Pci.Q35.Q35HostBridge.PciExBar, 4, (uint)PcLayout.EcamBase | 1);
        }

        Edu = new Edu(Clock);
        Testdev = new PciTestdev();
        Host.Attach(Edu, PcLayout.EduSlot, irqLine: PcLayout.EduIrq);
        Host.Attach(Testdev, PcLayout.PciTestdevSlot);
        Host.Bus.MappingChanged += Changes.Add;
    }

    public AddressSpace Memory { get; } = AddressSpace.CreateMemory();

    public AddressSpace Io { get; } = AddressSpace.CreateIo();

    public FakeInterruptSink Interrupts { get; } = new();

    public FakeGuestMemory Ram { get; } = new(1 << 20);

    public ManualTime Time { get; } = new();

    public DeviceClock Clock => _clock ??= new DeviceClock(Time.Now);

    public PciHost Host { get; }

    public Edu Edu { get; }

    public PciTestdev Testdev { get; }

    public List<BarMappingChange> Changes { get; } = [];

    private DeviceClock? _clock;

    public static uint Conf1Address(int slot, int function, int offset) =>
        0x8000_0000u | (uint)(slot << 11) | (uint)(function << 8) | (uint)(offset & 0xFC);

    public uint Conf1Read(int slot, int function, int offset, int size)
    {
        Io.Write(0xCF8, 4, Conf1Address(slot, function, offset));
        Io.Read(0xCFCUL + (ulong)(offset & 3), size, out ulong v);
        return (uint)v;
    }

    public void Conf1Write(int slot, int function, int offset, int size, uint value)
    {
        Io.Write(0xCF8, 4, Conf1Address(slot, function, offset));
        Io.Write(0xCFCUL + (ulong)(offset & 3), size, value);
    }

    public static ulong Ecam(int bus, int slot, int function, int offset) =>
        PcLayout.EcamBase + ((ulong)bus << 20) + ((ulong)slot << 15) + ((ulong)function << 12) + (ulong)offset;

    public uint EcamRead(int slot, int function, int offset, int size, int bus = 0)
    {
        Memory.Read(Ecam(bus, slot, function, offset), size, out ulong v);
        return (uint)v;
    }

    public void EcamWrite(int slot, int function, int offset, int size, uint value) =>
        Memory.Write(Ecam(0, slot, function, offset), size, value);

    /// <summary>Programs edu's BAR0 at <paramref name="address"/> and enables memory decoding and bus mastering.</summary>
    public void MapEdu(uint address = 0xE000_0000)
    {
        Conf1Write(PcLayout.EduSlot, 0, 0x10, 4, address);
        Conf1Write(PcLayout.EduSlot, 0, 0x04, 2, PciConfig.CommandMemory | PciConfig.CommandBusMaster);
    }
}
