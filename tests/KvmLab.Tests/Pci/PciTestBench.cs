using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Devices;

namespace KvmLab.Tests.Pci;

/// <summary>A host with edu at 00:02.0 and pci-testdev at 00:03.0, and helpers that speak conf1 and ECAM like a guest.</summary>
public sealed class PciTestBench
{
    public PciTestBench()
    {
        Host = new PciHost(Memory, Io, Interrupts, Ram);
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
