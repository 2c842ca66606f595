using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// A PCI-to-PCI bridge function (QEMU: hw/pci/pci_bridge.c): a type-1 header with primary, secondary and subordinate
/// bus numbers the guest programs, and I/O, memory and prefetchable-memory windows. Configuration cycles for bus
/// numbers in secondary..subordinate are forwarded to the secondary bus; the CPU reaches the BARs behind the bridge
/// only through the windows, which are aliases of the secondary bus's regions placed in the primary bus's regions
/// (pci_bridge_update_mappings), enabled by the command register's I/O and memory bits.
/// </summary>
/// <remarks>
/// Not modelled: the VGA and ISA-alias windows of bridge control (the bits are writable storage, as in QEMU they
/// only matter with a VGA device behind the bridge) and the secondary bus reset bit's effect on the devices behind.
/// </remarks>
internal abstract class PciBridge : PciDevice
{
    /// <summary>0x18 primary bus number.</summary>
    public const int PrimaryBus = 0x18;
    /// <summary>0x19 secondary bus number: the bus directly behind the bridge.</summary>
    public const int SecondaryBus = 0x19;
    /// <summary>0x1A subordinate bus number: the highest bus number behind the bridge.</summary>
    public const int SubordinateBus = 0x1A;
    /// <summary>0x1B secondary latency timer.</summary>
    public const int SecondaryLatencyTimer = 0x1B;
    /// <summary>0x1C I/O base: address bits 15:12 in bits 7:4, the decode type in bits 3:0.</summary>
    public const int IoBase = 0x1C;
    /// <summary>0x1D I/O limit, same layout; the window ends at limit | 0xFFF.</summary>
    public const int IoLimit = 0x1D;
    /// <summary>0x1E secondary status.</summary>
    public const int SecondaryStatus = 0x1E;
    /// <summary>0x20 memory base: address bits 31:20 in bits 15:4.</summary>
    public const int MemoryBase = 0x20;
    /// <summary>0x22 memory limit; the window ends at limit | 0xFFFFF.</summary>
    public const int MemoryLimit = 0x22;
    /// <summary>0x24 prefetchable memory base, as the memory base plus the 64-bit type in bits 3:0.</summary>
    public const int PrefetchableBase = 0x24;
    /// <summary>0x26 prefetchable memory limit.</summary>
    public const int PrefetchableLimit = 0x26;
    /// <summary>0x28 prefetchable base bits 63:32.</summary>
    public const int PrefetchableBaseUpper32 = 0x28;
    /// <summary>0x2C prefetchable limit bits 63:32.</summary>
    public const int PrefetchableLimitUpper32 = 0x2C;
    /// <summary>0x30 I/O base bits 31:16 (with a 32-bit I/O decode type only).</summary>
    public const int IoBaseUpper16 = 0x30;
    /// <summary>0x32 I/O limit bits 31:16.</summary>
    public const int IoLimitUpper16 = 0x32;
    /// <summary>0x38 expansion ROM base of a type-1 header.</summary>
    public const int RomAddress = 0x38;
    /// <summary>0x3E bridge control.</summary>
    public const int BridgeControl = 0x3E;

    /// <summary>I/O base/limit type bits: 16-bit decode (QEMU's bridges decode 16-bit I/O).</summary>
    public const byte IoRangeType16 = 0x00;
    /// <summary>Prefetchable base/limit type bits: 64-bit decode.</summary>
    public const ushort PrefetchableRangeType64 = 0x0001;
    /// <summary>Bridge control bits the guest may write (parity, SERR, ISA, VGA, VGA 16-bit, master abort, bus
    /// reset, fast back-to-back, the discard timers; QEMU: pci_init_mask_bridge).</summary>
    public const ushort BridgeControlWritable = 0x0BFF;
    /// <summary>Bridge control bit 10, discard timer status: write 1 to clear.</summary>
    public const ushort BridgeControlDiscardStatus = 0x0400;

    /// <summary>The type-1 header registers, for naming configuration accesses.</summary>
    public static readonly RegisterMap Type1Registers = new(
        new Register(PrimaryBus, 1, RegisterAccess.RW, "primary bus", "bus number upstream of the bridge"),
        new Register(SecondaryBus, 1, RegisterAccess.RW, "secondary bus", "bus number directly behind the bridge"),
        new Register(SubordinateBus, 1, RegisterAccess.RW, "subordinate bus", "highest bus number behind the bridge"),
        new Register(SecondaryLatencyTimer, 1, RegisterAccess.RW, "secondary latency timer", "storage"),
        new Register(IoBase, 1, RegisterAccess.RW, "I/O base", "window start bits 15:12 in 7:4"),
        new Register(IoLimit, 1, RegisterAccess.RW, "I/O limit", "window end bits 15:12 in 7:4, | 0xfff"),
        new Register(SecondaryStatus, 2, RegisterAccess.RW, "secondary status", "error bits, write 1 to clear"),
        new Register(MemoryBase, 2, RegisterAccess.RW, "memory base", "window start bits 31:20 in 15:4"),
        new Register(MemoryLimit, 2, RegisterAccess.RW, "memory limit", "window end bits 31:20 in 15:4, | 0xfffff"),
        new Register(PrefetchableBase, 2, RegisterAccess.RW, "prefetchable base", "bits 31:20 in 15:4; 64-bit type"),
        new Register(PrefetchableLimit, 2, RegisterAccess.RW, "prefetchable limit", "bits 31:20 in 15:4"),
        new Register(PrefetchableBaseUpper32, 4, RegisterAccess.RW, "prefetchable base upper", "bits 63:32"),
        new Register(PrefetchableLimitUpper32, 4, RegisterAccess.RW, "prefetchable limit upper", "bits 63:32"),
        new Register(IoBaseUpper16, 2, RegisterAccess.R, "I/O base upper", "bits 31:16 (16-bit decode: 0)"),
        new Register(IoLimitUpper16, 2, RegisterAccess.R, "I/O limit upper", "bits 31:16 (16-bit decode: 0)"),
        new Register(RomAddress, 4, RegisterAccess.RW, "expansion ROM", "no ROM: reads 0"),
        new Register(BridgeControl, 2, RegisterAccess.RW, "bridge control", "parity, SERR, ISA, VGA, bus reset, ..."));

    private MemoryRegion? _ioWindow;
    private MemoryRegion? _memoryWindow;
    private MemoryRegion? _prefetchableWindow;

    /// <summary>Initialises the type-1 header with QEMU's masks and the bridge's secondary bus.</summary>
    /// <param name="name">Device name (QEMU's type name).</param>
    /// <param name="vendorId">Vendor ID.</param>
    /// <param name="deviceId">Device ID.</param>
    /// <param name="revision">Revision ID.</param>
    /// <param name="express">Whether the bridge is a PCI Express port (4 KiB of configuration space, one slot behind it).</param>
    protected PciBridge(string name, ushort vendorId, ushort deviceId, byte revision, bool express)
        : base(name, vendorId, deviceId, revision, classCode: 0x0604, interruptPin: 0, express: express, headerType: 1)
    {
        foreach (int at in new[] { PrimaryBus, SecondaryBus, SubordinateBus, SecondaryLatencyTimer })
        {
            SetWriteMask(at, 1, 0xFF);
        }

        SetWriteMask(IoBase, 1, 0xF0);
        SetWriteMask(IoLimit, 1, 0xF0);
        SetWriteMask(MemoryBase, 2, 0xFFF0);
        SetWriteMask(MemoryLimit, 2, 0xFFF0);
        SetWriteMask(PrefetchableBase, 2, 0xFFF0);
        SetWriteMask(PrefetchableLimit, 2, 0xFFF0);
        SetWriteMask(PrefetchableBaseUpper32, 4, 0xFFFF_FFFF);
        SetWriteMask(PrefetchableLimitUpper32, 4, 0xFFFF_FFFF);
        SetWriteMask(BridgeControl, 2, BridgeControlWritable);
        SetWriteOneToClearMask(SecondaryStatus, 2, PciConfig.StatusWriteOneToClear);
        SetWriteOneToClearMask(BridgeControl, 2, BridgeControlDiscardStatus);
        SetConfig8(IoBase, IoRangeType16);
        SetConfig8(IoLimit, IoRangeType16);
        SetConfig16(PrefetchableBase, PrefetchableRangeType64);
        SetConfig16(PrefetchableLimit, PrefetchableRangeType64);
        // pci_bridge_initfn: a conventional bridge claims 66 MHz and fast back-to-back on both sides.
        SetConfig16(PciConfig.Status, StatusClaims);
        SetConfig16(SecondaryStatus, StatusClaims);
        Secondary = new PciBus(this);
    }

    /// <summary>Status bits 5 and 7, 66 MHz capable and fast back-to-back capable: what pci_bridge_initfn claims.</summary>
    private const ushort StatusClaims = 0x00A0;

    /// <summary>The bus behind the bridge.</summary>
    public PciBus Secondary { get; }

    /// <summary>The secondary bus number as programmed (0 until the guest sets it: then nothing is forwarded).</summary>
    public int SecondaryBusNumber => Config[SecondaryBus];

    /// <summary>The subordinate bus number as programmed.</summary>
    public int SubordinateBusNumber => Config[SubordinateBus];

    /// <summary>The I/O window as decoded now (first, last), or null when it is empty or I/O decoding is off.</summary>
    public (ulong First, ulong Last)? IoWindow => Window(WindowKind.Io);

    /// <summary>The memory window as decoded now, or null.</summary>
    public (ulong First, ulong Last)? MemoryWindow => Window(WindowKind.Memory);

    /// <summary>The prefetchable memory window as decoded now, or null.</summary>
    public (ulong First, ulong Last)? PrefetchableWindow => Window(WindowKind.Prefetchable);

    private enum WindowKind { Io, Memory, Prefetchable }

    // QEMU's pci_bridge_write_config: the windows follow writes to the command register, the window registers and
    // bridge control.
    private protected override void BridgeConfigWritten(int offset, int size, bool touchesCommand)
    {
        static bool Touches(int offset, int size, int start, int length) => offset < start + length && start < offset + size;
        if (touchesCommand || Touches(offset, size, IoBase, 2) || Touches(offset, size, MemoryBase, 20) ||
            Touches(offset, size, IoBaseUpper16, 4) || Touches(offset, size, BridgeControl, 2))
        {
            UpdateWindows();
        }
    }

    /// <summary>Called by the secondary bus after <paramref name="device"/> is plugged into it (a PCI Express port's
    /// slot becomes populated, QEMU: the slot's plug callback and reset).</summary>
    internal virtual void SecondaryDeviceAttached(PciDevice device)
    {
    }

    /// <summary>Places the three windows in the primary bus's regions as the registers say (QEMU: pci_bridge_update_mappings).</summary>
    internal void UpdateWindows()
    {
        if (Bus is not { } primary)
        {
            return;
        }

        _ioWindow = Replace(_ioWindow, primary.IoRoot, Secondary.IoRoot, "pci_bridge_io", WindowKind.Io);
        _memoryWindow = Replace(_memoryWindow, primary.MemoryRoot, Secondary.MemoryRoot, "pci_bridge_mem", WindowKind.Memory);
        _prefetchableWindow = Replace(_prefetchableWindow, primary.MemoryRoot, Secondary.MemoryRoot, "pci_bridge_pref_mem", WindowKind.Prefetchable);
    }

    private MemoryRegion? Replace(MemoryRegion? old, MemoryRegion parent, MemoryRegion target, string name, WindowKind kind)
    {
        var range = Window(kind);
        if (old is not null && range is { } same && old.Address == same.First && old.Size == same.Last - same.First + 1)
        {
            return old;
        }

        if (old is not null)
        {
            parent.RemoveSubregion(old);
            old.DetachAlias();
        }

        if (range is not { } r || r.Last > parent.LastOffset)
        {
            return null;
        }

        var alias = MemoryRegion.CreateAlias(name, target, r.First, r.Last - r.First + 1, Name);
        parent.AddSubregionOverlap(r.First, alias, PciBus.BarPriority);
        return alias;
    }

    // QEMU's pci_bridge_get_base / pci_bridge_get_limit, and pci_bridge_region_init's enable bit.
    private (ulong First, ulong Last)? Window(WindowKind kind)
    {
        ulong first, last;
        ushort decode;
        switch (kind)
        {
            case WindowKind.Io:
                first = (ulong)(Config[IoBase] & 0xF0) << 8;
                last = ((ulong)(Config[IoLimit] & 0xF0) << 8) | 0xFFF;
                decode = PciConfig.CommandIo;
                break;
            case WindowKind.Memory:
                first = (ulong)(GetConfig16(MemoryBase) & 0xFFF0) << 16;
                last = ((ulong)(GetConfig16(MemoryLimit) & 0xFFF0) << 16) | 0xF_FFFF;
                decode = PciConfig.CommandMemory;
                break;
            default:
                first = ((ulong)(GetConfig16(PrefetchableBase) & 0xFFF0) << 16) | ((ulong)GetConfig32(PrefetchableBaseUpper32) << 32);
                last = ((ulong)(GetConfig16(PrefetchableLimit) & 0xFFF0) << 16) | 0xF_FFFF | ((ulong)GetConfig32(PrefetchableLimitUpper32) << 32);
                decode = PciConfig.CommandMemory;
                break;
        }

        return (Command & decode) != 0 && first <= last ? (first, last) : null;
    }
}
