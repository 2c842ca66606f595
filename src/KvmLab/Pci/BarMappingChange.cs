using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// A BAR appeared, moved or disappeared in an address space (QEMU: what <c>pci_update_mappings</c> does after a
/// configuration write). Traces show these next to the config accesses that caused them.
/// </summary>
/// <param name="Device">Device name.</param>
/// <param name="Address">Bus/device/function.</param>
/// <param name="Bar">BAR number.</param>
/// <param name="Space">"memory" or "io".</param>
/// <param name="Region">Name of the mapped region.</param>
/// <param name="OldAddress">Previous base, or null when it was unmapped.</param>
/// <param name="NewAddress">New base, or null when it is now unmapped.</param>
/// <param name="Size">Region size.</param>
public sealed record BarMappingChange(
    string Device, PciAddress Address, int Bar, string Space, string Region, ulong? OldAddress, ulong? NewAddress, ulong Size)
{
    /// <inheritdoc />
    public override string ToString()
    {
        static string At(ulong? a, ulong size) => a is { } v ? MemoryRegion.FormatRange(v, size) : "unmapped";
        return $"{Address} {Device} BAR{Bar} {Region} ({Space}): {At(OldAddress, Size)} -> {At(NewAddress, Size)}";
    }
}
