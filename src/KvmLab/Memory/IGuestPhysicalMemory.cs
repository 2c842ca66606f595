namespace KvmLab.Memory;

/// <summary>
/// Guest RAM as a device doing DMA sees it. Implementations refuse (return false, touching nothing) any range that
/// is not entirely guest RAM, so a hostile guest-programmed address can never reach host memory.
/// </summary>
public interface IGuestPhysicalMemory
{
    /// <summary>Copies guest-physical <paramref name="gpa"/>..+<c>dst.Length</c> into <paramref name="dst"/>; false if any byte is not RAM.</summary>
    bool TryRead(ulong gpa, Span<byte> dst);

    /// <summary>Copies <paramref name="src"/> to guest-physical <paramref name="gpa"/>; false (nothing written) if any byte is not RAM.</summary>
    bool TryWrite(ulong gpa, ReadOnlySpan<byte> src);
}
