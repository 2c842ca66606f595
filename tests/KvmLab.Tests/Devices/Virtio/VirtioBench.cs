using System.Buffers.Binary;
using KvmLab.Devices.Virtio;
using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Tests.Devices.Virtio;

/// <summary>
/// virtio-rng-pci at 00:02.0 of a host bridge with 1 MiB of fake RAM and a counting entropy source (0, 1, 2, ...), and
/// helpers that program it as a guest driver would, through conf1, the legacy port block and the modern BAR.
/// </summary>
public sealed class VirtioBench
{
    public const int Slot = 2;
    public const ushort LegacyBase = 0xC000;
    public const uint MsixBase = 0xFEBD_0000;
    public const ulong ModernBase = 0xFE00_0000;

    private byte _next;

    public VirtioBench(bool useIoEventFd = true)
    {
        Host = new PciHost(Memory, Io, Interrupts, Ram);
        Rng = new VirtioRng(Fill);
        Pci = new VirtioPci(Rng, "virtio-rng-pci", ioEventFd: useIoEventFd);
        Host.Attach(Pci, Slot, irqLine: 11);
    }

    public AddressSpace Memory { get; } = AddressSpace.CreateMemory();

    public AddressSpace Io { get; } = AddressSpace.CreateIo();

    public FakeInterruptSink Interrupts { get; } = new();

    public FakeGuestMemory Ram { get; } = new(1 << 20);

    public PciHost Host { get; }

    internal VirtioRng Rng { get; }

    internal VirtioPci Pci { get; }

    private void Fill(Span<byte> destination)
    {
        foreach (ref byte b in destination)
        {
            b = _next++;
        }
    }

    public uint ConfRead(int offset, int size)
    {
        Io.Write(0xCF8, 4, 0x8000_0000u | (Slot << 11) | (uint)(offset & 0xFC));
        Io.Read(0xCFCUL + (ulong)(offset & 3), size, out ulong v);
        return (uint)v;
    }

    public void ConfWrite(int offset, int size, uint value)
    {
        Io.Write(0xCF8, 4, 0x8000_0000u | (Slot << 11) | (uint)(offset & 0xFC));
        Io.Write(0xCFCUL + (ulong)(offset & 3), size, value);
    }

    /// <summary>Maps the BARs where the QEMU transcript puts them and turns on I/O, memory and bus mastering.</summary>
    public void MapBars()
    {
        ConfWrite(0x10, 4, LegacyBase);
        ConfWrite(0x14, 4, MsixBase);
        ConfWrite(0x20, 4, (uint)ModernBase | 0xC);
        ConfWrite(0x04, 2, 0x0007);
    }

    public uint Common(int offset, int size)
    {
        Memory.Read(ModernBase + (ulong)offset, size, out ulong v);
        return (uint)v;
    }

    public void Common(int offset, int size, uint value) => Memory.Write(ModernBase + (ulong)offset, size, value);

    public void MsixEntry(int vector, ulong address, uint data, bool masked)
    {
        ulong e = MsixBase + (ulong)(vector * 16);
        Memory.Write(e, 4, (uint)address);
        Memory.Write(e + 4, 4, (uint)(address >> 32));
        Memory.Write(e + 8, 4, data);
        Memory.Write(e + 12, 4, masked ? 1u : 0u);
    }

    public void EnableMsix(bool functionMask = false) =>
        ConfWrite(Pci.MsixCapabilityOffset + 2, 2, functionMask ? 0xC000u : 0x8000u);

    // Ring layout used by the modern driver helper: descriptors at 0x10000, avail at 0x11000, used at 0x12000.
    public const ulong Desc = 0x10000;
    public const ulong Avail = 0x11000;
    public const ulong Used = 0x12000;

    /// <summary>A virtio 1.0 driver's start-up: features (VERSION_1 plus <paramref name="low"/>), queue 0 at the fixed
    /// rings, vectors 0 (config) and 1 (queue), DRIVER_OK.</summary>
    public void StartModernDriver(uint low = 0, bool msix = true)
    {
        MapBars();
        if (msix)
        {
            MsixEntry(0, 0xFEE0_0000, 0x40, masked: false);
            MsixEntry(1, 0xFEE0_1000, 0x41, masked: false);
            EnableMsix();
        }

        Common(VirtioPciRegisters.CommonDeviceStatus, 1, VirtioSpec.StatusAcknowledge | VirtioSpec.StatusDriver);
        Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 0);
        Common(VirtioPciRegisters.CommonGuestFeature, 4, low);
        Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 1);
        Common(VirtioPciRegisters.CommonGuestFeature, 4, 1);
        Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0x0B);
        if (msix)
        {
            Common(VirtioPciRegisters.CommonMsixConfig, 2, 0);
        }

        Common(VirtioPciRegisters.CommonQueueSelect, 2, 0);
        if (msix)
        {
            Common(VirtioPciRegisters.CommonQueueMsixVector, 2, 1);
        }

        Common(VirtioPciRegisters.CommonQueueDescLo, 4, (uint)Desc);
        Common(VirtioPciRegisters.CommonQueueAvailLo, 4, (uint)Avail);
        Common(VirtioPciRegisters.CommonQueueUsedLo, 4, (uint)Used);
        Common(VirtioPciRegisters.CommonQueueEnable, 2, 1);
        Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0x0F);
    }

    public void WriteDescriptor(ulong table, int index, ulong address, uint length, ushort flags, ushort next = 0)
    {
        Span<byte> d = Ram.Ram.AsSpan((int)table + index * 16, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Puts <paramref name="head"/> in the avail ring and bumps avail idx, as a driver does before a kick.</summary>
    public void Offer(ushort head, int queueSize = VirtioRng.QueueSize)
    {
        ushort idx = AvailIdx;
        BinaryPrimitives.WriteUInt16LittleEndian(Ram.Ram.AsSpan((int)Avail + 4 + 2 * (idx % queueSize)), head);
        AvailIdx = (ushort)(idx + 1);
    }

    public ushort AvailIdx
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Ram.Ram.AsSpan((int)Avail + 2));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Ram.Ram.AsSpan((int)Avail + 2), value);
    }

    public ushort UsedIdx => BinaryPrimitives.ReadUInt16LittleEndian(Ram.Ram.AsSpan((int)Used + 2));

    public (uint Id, uint Length) UsedEntry(int i) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(Ram.Ram.AsSpan((int)Used + 4 + 8 * i)),
         BinaryPrimitives.ReadUInt32LittleEndian(Ram.Ram.AsSpan((int)Used + 8 + 8 * i)));

    public void Kick(int queue = 0) =>
        Memory.Write(ModernBase + VirtioPciRegisters.NotifyOffset + (ulong)(queue * VirtioPciRegisters.NotifyOffMultiplier), 2, (uint)queue);
}
