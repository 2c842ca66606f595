namespace KvmLab.Memory;

/// <summary>
/// One piece of an address space's flattened map (QEMU: a <c>FlatRange</c> of a <c>FlatView</c>): the addresses
/// <see cref="Start"/>..<see cref="Last"/> (inclusive) are served by <see cref="Region"/> starting at
/// <see cref="OffsetInRegion"/>.
/// </summary>
/// <param name="Start">First address of the range.</param>
/// <param name="Last">Last address of the range (inclusive, so the top of a 64-bit space is representable).</param>
/// <param name="Region">The leaf region that answers.</param>
/// <param name="OffsetInRegion">Offset within <paramref name="Region"/> that <paramref name="Start"/> maps to.</param>
internal readonly record struct FlatRange(ulong Start, ulong Last, MemoryRegion Region, ulong OffsetInRegion)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Start:x16}-{Last:x16} (prio {Region.Priority}, i/o): {Region.Name}" +
        (OffsetInRegion != 0 ? $" @{OffsetInRegion:x16}" : "");
}
