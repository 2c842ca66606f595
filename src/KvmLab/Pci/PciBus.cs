using System.Buffers.Binary;
using KvmLab.Memory;

using KvmLab.Interrupts;

namespace KvmLab.Pci;

/// <summary>
/// A PCI bus: up to 256 functions by device/function number, the address-space regions their BARs are mapped into,
/// and the interrupt wiring. The root bus maps BARs straight into the "memory" and "io" address spaces; the secondary
/// bus of a <see cref="PciBridge"/> maps them into its own containers, which the CPU reaches only through the
/// bridge's windows (QEMU: the bridge's "pci_bridge_pci" and "pci_bridge_io" regions). It performs QEMU's
/// <c>pci_update_mappings</c> when a device's BARs or command register change.
/// </summary>
public sealed class PciBus
{
    /// <summary>Size of a bus's port space: BARs past 64 KiB would be mapped where no CPU port access reaches.</summary>
    private const ulong IoSpaceSize = 0x1_0000;

    /// <summary>Priority BAR regions get in their address space (QEMU maps BARs with priority 1 so they win overlaps).</summary>
    public const int BarPriority = 1;

    private readonly PciDevice?[] _devices = new PciDevice?[256];
    private readonly Dictionary<int, HashSet<PciDevice>> _assertedByLine = [];

    /// <summary>Creates a root bus mapping BARs into <paramref name="memory"/> and <paramref name="io"/>.</summary>
    public PciBus(AddressSpace memory, AddressSpace io, IInterruptSink interrupts, IGuestPhysicalMemory guestMemory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(io);
        MemoryRoot = memory.Root;
        IoRoot = io.Root;
        MemorySpaceName = memory.Name;
        IoSpaceName = io.Name;
        _interrupts = interrupts ?? throw new ArgumentNullException(nameof(interrupts));
        _guestMemory = guestMemory ?? throw new ArgumentNullException(nameof(guestMemory));
    }

    /// <summary>Creates the secondary bus of <paramref name="bridge"/>; interrupts and DMA go where the bridge's bus sends them.</summary>
    internal PciBus(PciBridge bridge)
    {
        ParentBridge = bridge;
        MemoryRoot = MemoryRegion.CreateContainer("pci_bridge_pci", ulong.MaxValue, bridge.Name);
        IoRoot = MemoryRegion.CreateContainer("pci_bridge_io", IoSpaceSize, bridge.Name);
        MemorySpaceName = MemoryRoot.Name;
        IoSpaceName = IoRoot.Name;
    }

    /// <summary>The region memory BARs are mapped into: the "memory" space's root, or a bridge's secondary-bus container.</summary>
    public MemoryRegion MemoryRoot { get; }

    /// <summary>The region I/O BARs are mapped into.</summary>
    public MemoryRegion IoRoot { get; }

    /// <summary>The bridge whose secondary bus this is, or null for the root bus.</summary>
    internal PciBridge? ParentBridge { get; }

    /// <summary>The bus number configuration cycles use: 0 for the root bus, else the bridge's secondary bus number
    /// as the guest programmed it (QEMU: pci_bus_num).</summary>
    public int Number => ParentBridge?.SecondaryBusNumber ?? 0;

    /// <summary>Whether a device on this bus can reach memory: every bridge above it must have bus mastering on
    /// (QEMU: the bridges' bus-master address spaces are disabled otherwise).</summary>
    public bool MasterEnabled => ParentBridge is not { } b || (b.BusMaster && b.Bus is { MasterEnabled: true });

    private string MemorySpaceName { get; }

    private string IoSpaceName { get; }

    /// <summary>Where INTx and MSI go.</summary>
    public IInterruptSink Interrupts => _interrupts ?? Upstream.Interrupts;

    /// <summary>Guest RAM for DMA.</summary>
    public IGuestPhysicalMemory GuestMemory => _guestMemory ?? Upstream.GuestMemory;

    private readonly IInterruptSink? _interrupts;
    private readonly IGuestPhysicalMemory? _guestMemory;

    private PciBus Upstream => ParentBridge?.Bus ??
        throw new InvalidOperationException($"{ParentBridge?.Name}'s secondary bus has no interrupts or memory until the bridge is plugged in.");

    /// <summary>Attached functions in device/function order.</summary>
    public IEnumerable<PciDevice> Devices => _devices.OfType<PciDevice>();

    /// <summary>Raised for every BAR that appears, moves or disappears, on this bus or (for the root bus) behind its bridges.</summary>
    public event Action<BarMappingChange>? MappingChanged;

    /// <summary>Raises <see cref="MappingChanged"/> here and on every bus above.</summary>
    internal void OnMappingChanged(BarMappingChange change)
    {
        MappingChanged?.Invoke(change);
        ParentBridge?.Bus?.OnMappingChanged(change);
    }

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
        if (ParentBridge is { IsExpress: true } && slot != 0)
        {
            throw new ArgumentException($"{ParentBridge.Name}'s secondary bus is a PCI Express link: only slot 00 exists behind it.", nameof(slot));
        }

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
        if (device is PciBridge bridge)
        {
            bridge.UpdateWindows();
        }

        ParentBridge?.SecondaryDeviceAttached(device);
    }

    /// <summary>The function at <paramref name="devFn"/> on this bus, or null when absent.</summary>
    public PciDevice? Find(int devFn) => devFn is >= 0 and < 256 ? _devices[devFn] : null;

    /// <summary>
    /// The bus that configuration cycles for <paramref name="busNumber"/> reach from here, or null (QEMU:
    /// pci_find_bus_nr): this bus by its number, else the secondary bus of the bridge whose secondary..subordinate
    /// range holds the number. A bridge whose bus numbers are still 0 forwards nothing.
    /// </summary>
    public PciBus? FindBus(int busNumber)
    {
        if (Number == busNumber)
        {
            return this;
        }

        foreach (PciDevice? device in _devices)
        {
            if (device is PciBridge bridge && bridge.SecondaryBusNumber != 0 &&
                bridge.SecondaryBusNumber <= busNumber && busNumber <= bridge.SubordinateBusNumber)
            {
                return bridge.Secondary.FindBus(busNumber);
            }
        }

        return null;
    }

    /// <summary>Maps, moves or unmaps each BAR of <paramref name="device"/> to match its registers (QEMU: <c>pci_update_mappings</c>).</summary>
    internal void UpdateMappings(PciDevice device)
    {
        foreach (PciBar? bar in device.Bars)
        {
            if (bar is null)
            {
                continue;
            }

            bool io = bar.Kind == PciBarKind.Io;
            MemoryRegion space = io ? IoRoot : MemoryRoot;
            ulong? wanted = DecodedAddress(device, bar, io ? IoSpaceSize - 1 : ulong.MaxValue);
            ulong? old = bar.MappedAddress;
            if (wanted == old)
            {
                continue;
            }

            if (old is not null)
            {
                space.RemoveSubregion(bar.Region);
            }

            if (wanted is { } at)
            {
                space.AddSubregionOverlap(at, bar.Region, BarPriority);
            }

            bar.MappedAddress = wanted;
            OnMappingChanged(new BarMappingChange(device.Name, device.Address, bar.Index, io ? IoSpaceName : MemorySpaceName, bar.Region.Name, old, wanted, bar.Size));
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

    // QEMU's pci_bar_address: where the BAR decodes now, or null when decoding is off (or, pci_update_mappings, the
    // function has no power) or the value cannot be mapped
    // (zero, wrapping, or a 32-bit BAR reaching 0xffffffff: the all-ones pattern written while sizing).
    private static ulong? DecodedAddress(PciDevice device, PciBar bar, ulong spaceLast)
    {
        ushort decodeBit = bar.Kind == PciBarKind.Io ? PciConfig.CommandIo : PciConfig.CommandMemory;
        if ((device.Command & decodeBit) == 0 || !device.HasPower)
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
        return last > spaceLast ? null : address;
    }
}
