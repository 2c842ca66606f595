using KvmLab.Boards;
using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Tests.Devices;

namespace KvmLab.Tests.Pci;

/// <summary>A board built through <see cref="BoardWiring"/> without KVM, and the guest's three ways into configuration
/// space: conf1, ECAM (on q35, once PCIEXBAR is enabled) and the memory and port address spaces.</summary>
public sealed class BoardBench
{
    public BoardBench(Board board, ulong ramSize = PcLayout.DefaultRamSize)
    {
        var options = new MachineOptions { RamSize = ramSize };
        Wiring = new BoardWiring(board, Io, Memory, Interrupts, Ram, new BoardContext(new DeviceClock(() => 0), options));
    }

    public AddressSpace Memory { get; } = AddressSpace.CreateMemory();

    public AddressSpace Io { get; } = AddressSpace.CreateIo();

    public FakeInterruptSink Interrupts { get; } = new();

    public FakeGuestMemory Ram { get; } = new(1 << 20);

    public BoardWiring Wiring { get; }

    public static uint Conf1Address(int bus, int devFn, int offset) =>
        0x8000_0000u | (uint)(bus << 16) | (uint)(devFn << 8) | (uint)(offset & 0xFC);

    public uint Conf1Read(int bus, int devFn, int offset, int size = 4)
    {
        Io.Write(0xCF8, 4, Conf1Address(bus, devFn, offset));
        Io.Read(0xCFCUL + (ulong)(offset & 3), size, out ulong v);
        return (uint)v;
    }

    public void Conf1Write(int bus, int devFn, int offset, uint value, int size = 4)
    {
        Io.Write(0xCF8, 4, Conf1Address(bus, devFn, offset));
        Io.Write(0xCFCUL + (ulong)(offset & 3), size, value);
    }

    /// <summary>Enables PCIEXBAR at 0xB0000000 as the reference tool and firmware do.</summary>
    public void EnableEcam() => Conf1Write(0, 0, KvmLab.Pci.Q35.Q35HostBridge.PciExBar, (uint)PcLayout.EcamBase | 1);

    public static ulong Ecam(int bus, int devFn, int offset) =>
        PcLayout.EcamBase + ((ulong)bus << 20) + ((ulong)devFn << 12) + (ulong)offset;

    public uint EcamRead(int bus, int devFn, int offset, int size = 4)
    {
        Memory.Read(Ecam(bus, devFn, offset), size, out ulong v);
        return (uint)v;
    }

    public void EcamWrite(int bus, int devFn, int offset, uint value, int size = 4) => Memory.Write(Ecam(bus, devFn, offset), size, value);

    /// <summary>A dword as the probe firmware reads it: conf1 below 0x100, ECAM from there.</summary>
    public uint ProbeRead(int bus, int devFn, int offset) =>
        offset < 0x100 ? Conf1Read(bus, devFn, offset) : EcamRead(bus, devFn, offset);

    public void ProbeWrite(int bus, int devFn, int offset, uint value)
    {
        if (offset < 0x100)
        {
            Conf1Write(bus, devFn, offset, value);
        }
        else
        {
            EcamWrite(bus, devFn, offset, value);
        }
    }

    public uint MemoryRead(ulong address, int size = 4)
    {
        Memory.Read(address, size, out ulong v);
        return (uint)v;
    }

    public uint IoRead(ulong port, int size = 4)
    {
        Io.Read(port, size, out ulong v);
        return (uint)v;
    }
}
