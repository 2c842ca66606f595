namespace KvmLab.Memory;

/// <summary>
/// The callbacks behind an I/O <see cref="MemoryRegion"/> (QEMU: <c>MemoryRegionOps</c>). A device sees only offsets
/// within its own region; the <see cref="AddressSpace"/> has already subtracted the region's base address.
/// </summary>
public interface IMemoryRegionOps
{
    /// <summary>Reads <paramref name="size"/> bytes (a size allowed by <see cref="Impl"/>) at <paramref name="offset"/>.</summary>
    ulong Read(ulong offset, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at <paramref name="offset"/>.</summary>
    void Write(ulong offset, int size, ulong value);

    /// <summary>
    /// Which accesses the guest may make (QEMU: <c>ops-&gt;valid</c>). Anything else is rejected by the memory core
    /// before the device sees it: reads give 0, writes are dropped, the access is flagged
    /// <see cref="AccessStatus.InvalidAccess"/>. Defaults to QEMU's 1..4 bytes, aligned.
    /// </summary>
    AccessSizes Valid => AccessSizes.Default;

    /// <summary>
    /// Which access sizes the callbacks implement (QEMU: <c>ops-&gt;impl</c>); the memory core splits or widens
    /// accesses to fit. Defaults to QEMU's 1..4 bytes.
    /// </summary>
    AccessSizes Impl => AccessSizes.Default;
}
