using KvmLab.Kvm;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>
/// A copy of a range of guest memory, displayed in a notebook as a hexdump with guest-physical addresses. It is a
/// snapshot: later guest writes do not change it.
/// </summary>
/// <param name="Address">Guest-physical address of <paramref name="Bytes"/>[0].</param>
/// <param name="Bytes">The bytes.</param>
[TypeFormatterSource(typeof(KvmLabTypeFormatterSource))]
public sealed record MemoryDump(ulong Address, byte[] Bytes)
{
    /// <summary>Copies <paramref name="length"/> bytes at <paramref name="guestPhysicalAddress"/> out of <paramref name="memory"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside <paramref name="memory"/>.</exception>
    public static MemoryDump Of(GuestMemory memory, ulong guestPhysicalAddress, int length)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (length < 0 || !memory.Contains(guestPhysicalAddress, (ulong)length))
            throw new ArgumentOutOfRangeException(nameof(length),
                $"0x{guestPhysicalAddress:x}..+0x{length:x} is not inside {memory}");
        return new MemoryDump(guestPhysicalAddress, memory.GetSpan(guestPhysicalAddress, length).ToArray());
    }

    /// <inheritdoc />
    public override string ToString() => $"{Bytes.Length} bytes at 0x{Address:x}";
}
