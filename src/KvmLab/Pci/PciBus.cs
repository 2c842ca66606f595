using System.Buffers.Binary;
using KvmLab.Devices;
using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// Bus 0: up to 256 functions by device/function number, the address spaces their BARs are mapped into, and the
/// interrupt wiring. It performs QEMU's <c>pci_update_mappings</c> when a device's BARs or command register change.
/// </summary>
public sealed class PciBus
{
    /// <summary>Priority BAR regions get in their address space (QEMU maps BARs with priority 1 so they win overlaps).</summary>
    public const int BarPriority = 1;

    private readonly PciDevice?[] _devices = new PciDevice?[256];
    private readonly Dictionary<int, HashSet<PciDevice>> _assertedByLine = [];

    /// <summary>Creates a bus mapping BARs into <paramref name="memory"/> and <paramref name="io"/>.</summary>
    public PciBus(AddressSpace memory, AddressSpace io, IInterruptSink interrupts, IGuestPhysicalMemory guestMemory)
    {
        Memory = memory ?? throw new ArgumentNullException(nameof(memory));
        Io = io ?? throw new ArgumentNullException(nameof(io));
        Interrupts = interrupts ?? throw new ArgumentNullException(nameof(interrupts));
        GuestMemory = guestMemory ?? throw new ArgumentNullException(nameof(guestMemory));
    }

    /// <summary>The "memory" space memory BARs appear in.</summary>
    public AddressSpace Memory { get; }

    /// <summary>The "io" space I/O BARs appear in.</summary>
    public AddressSpace Io { get; }

    /// <summary>Where INTx and MSI go.</summary>
    public IInterruptSink Interrupts { get; }

    /// <summary>Guest RAM for DMA.</summary>
    public IGuestPhysicalMemory GuestMemory { get; }

    /// <summary>Attached functions in device/function order.</summary>
    public IEnumerable<PciDevice> Devices => _devices.OfType<PciDevice>();

    /// <summary>Raised for every BAR that appears, moves or disappears.</summary>
    public event Action<BarMappingChange>? MappingChanged;

    /// <summary>
    /// Plugs <paramref name="device"/> in at <paramref name="slot"/>.<paramref name="function"/>, its INTx# wired to
    /// <paramref name="irqLine"/> (-1: not wired). A function other than 0 needs a multi-function function 0, as QEMU demands.
    /// </summary>
    /// <exception cref="ArgumentException">Bad slot or function, the slot is taken, or the multi-function rule is broken.</exception>
    public void Attach(PciDevice device, int slot, int function = 0, int irqLine = -1)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (slot is < 0 or > 31 || function is < 0 or > 7)
        {
            throw new ArgumentException($"{slot:x2}.{function:x} is not a valid slot.function.", nameof(slot));
        }

        var address = new PciAddress(0, slot, function);
        if (_devices[address.DevFn] is { } present)
        {
            throw new ArgumentException($"{address} is taken by {present.Name}.", nameof(slot));
        }

        if (function != 0 && _devices[slot << 3] is not { MultiFunction: true })
        {
            throw new ArgumentException($"{address}: function 0 of slot {slot:x2} must exist and be multi-function first.", nameof(function));
        }

        if (function == 0 && !device.MultiFunction && Enumerable.Range(1, 7).Any(f => _devices[(slot << 3) | f] is not null))
        {
            throw new ArgumentException($"{address}: slot {slot:x2} has other functions, so function 0 must be multi-function.", nameof(device));
        }

        device.Attach(this, address, irqLine);
        _devices[address.DevFn] = device;
    }

    /// <summary>The function at <paramref name="devFn"/> on bus 0, or null when absent.</summary>
    public PciDevice? Find(int devFn) => devFn is >= 0 and < 256 ? _devices[devFn] : null;

    /// <summary>Maps, moves or unmaps each BAR of <paramref name="device"/> to match its registers (QEMU: <c>pci_update_mappings</c>).</summary>
    internal void UpdateMappings(PciDevice device)
    {
        foreach (PciBar? bar in device.Bars)
        {
            if (bar is null)
            {
                continue;
            }

            AddressSpace space = bar.Kind == PciBarKind.Io ? Io : Memory;
            ulong? wanted = DecodedAddress(device, bar, space);
            ulong? old = bar.MappedAddress;
            if (wanted == old)
            {
                continue;
            }

            if (old is not null)
            {
                space.Root.RemoveSubregion(bar.Region);
            }

            if (wanted is { } at)
            {
                space.Root.AddSubregionOverlap(at, bar.Region, BarPriority);
            }

            bar.MappedAddress = wanted;
            MappingChanged?.Invoke(new BarMappingChange(device.Name, device.Address, bar.Index, space.Name, bar.Region.Name, old, wanted, bar.Size));
        }
    }

    /// <summary>Drives a device's INTx# onto its line; lines shared by several functions are the OR of them.</summary>
    internal void SetIntx(PciDevice device, bool level)
    {
        if (device.IrqLine < 0)
        {
            return;
        }

        if (!_assertedByLine.TryGetValue(device.IrqLine, out HashSet<PciDevice>? asserted))
        {
            asserted = [];
            _assertedByLine[device.IrqLine] = asserted;
        }

        bool before = asserted.Count > 0;
        if (level)
        {
            asserted.Add(device);
        }
        else
        {
            asserted.Remove(device);
        }

        bool after = asserted.Count > 0;
        if (before != after)
        {
            Interrupts.SetIrq(device.IrqLine, after);
        }
    }

    // QEMU's pci_bar_address: where the BAR decodes now, or null when decoding is off or the value cannot be mapped
    // (zero, wrapping, or a 32-bit BAR reaching 0xffffffff: the all-ones pattern written while sizing).
    private static ulong? DecodedAddress(PciDevice device, PciBar bar, AddressSpace space)
    {
        ushort decodeBit = bar.Kind == PciBarKind.Io ? PciConfig.CommandIo : PciConfig.CommandMemory;
        if ((device.Command & decodeBit) == 0)
        {
            return null;
        }

        // Configuration space is little-endian whatever the host is.
        ReadOnlySpan<byte> config = device.Config;
        ulong size = bar.Size;
        ulong raw = BinaryPrimitives.ReadUInt32LittleEndian(config[bar.ConfigOffset..]);
        if (bar.Kind == PciBarKind.Memory64)
        {
            raw |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(config[(bar.ConfigOffset + 4)..]) << 32;
        }

        ulong address = raw & ~(size - 1);
        ulong last = address + size - 1;
        if (last <= address || address == 0 || last == ulong.MaxValue)
        {
            return null;
        }

        if (bar.Kind != PciBarKind.Memory64 && last >= uint.MaxValue)
        {
            return null;
        }

        // QEMU would place such an I/O BAR past the 64 KiB port space where no CPU access reaches it.
        return last > space.Root.LastOffset ? null : address;
    }
}
