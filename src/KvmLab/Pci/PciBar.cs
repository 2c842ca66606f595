using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>One registered base address register of a <see cref="PciDevice"/> and where it is mapped now.</summary>
public sealed class PciBar
{
    internal PciBar(int index, PciBarKind kind, bool prefetchable, MemoryRegion region)
    {
        Index = index;
        Kind = kind;
        Prefetchable = prefetchable;
        Region = region;
    }

    /// <summary>BAR number 0..5.</summary>
    public int Index { get; }

    /// <summary>What the BAR decodes.</summary>
    public PciBarKind Kind { get; }

    /// <summary>Whether the memory BAR is marked prefetchable.</summary>
    public bool Prefetchable { get; }

    /// <summary>The device region the BAR maps.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Size of the BAR (the region size, a power of two).</summary>
    public ulong Size => Region.Size;

    /// <summary>The address the region is mapped at in its address space, or null when unmapped.</summary>
    public ulong? MappedAddress { get; internal set; }

    /// <summary>Offset of the BAR's (low) dword in configuration space.</summary>
    public int ConfigOffset => PciConfig.Bar0 + Index * 4;

    /// <summary>The low bits that tell software what kind of BAR this is.</summary>
    internal uint TypeBits => Kind switch
    {
        PciBarKind.Io => PciConfig.BarSpaceIo,
        PciBarKind.Memory64 => PciConfig.BarMemoryType64 | (Prefetchable ? PciConfig.BarMemoryPrefetch : 0),
        _ => Prefetchable ? PciConfig.BarMemoryPrefetch : 0,
    };
}
