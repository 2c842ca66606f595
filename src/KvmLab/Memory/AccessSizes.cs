namespace KvmLab.Memory;

/// <summary>
/// Access-size constraints of a region's ops, the pair QEMU calls <c>min_access_size</c> / <c>max_access_size</c>
/// plus whether unaligned accesses are allowed.
/// </summary>
/// <param name="Min">Smallest access in bytes (1, 2, 4 or 8).</param>
/// <param name="Max">Largest access in bytes (1, 2, 4 or 8).</param>
/// <param name="Unaligned">Whether an access need not be aligned to its own size.</param>
public readonly record struct AccessSizes(int Min, int Max, bool Unaligned = false)
{
    /// <summary>QEMU's default when a device declares nothing: 1 to 4 bytes, aligned.</summary>
    public static AccessSizes Default => new(1, 4);

    /// <summary>Whether an access of <paramref name="size"/> bytes at <paramref name="offset"/> satisfies these rules.</summary>
    public bool Accepts(ulong offset, int size) =>
        size >= Min && size <= Max && (Unaligned || (offset & (ulong)(size - 1)) == 0);
}
