namespace KvmLab.Kvm;

/// <summary>One KVM memory slot: guest-physical range backed by host memory (KVM_SET_USER_MEMORY_REGION).</summary>
/// <param name="Slot">The slot number.</param>
/// <param name="GuestPhysicalAddress">First guest-physical byte.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="HostAddress">Host virtual address backing the first byte.</param>
/// <param name="ReadOnly">True if guest writes exit as MMIO (KVM_MEM_READONLY).</param>
public sealed record MemorySlot(int Slot, ulong GuestPhysicalAddress, ulong Size, nint HostAddress, bool ReadOnly)
{
    /// <summary>Exclusive end of the range.</summary>
    public ulong End => GuestPhysicalAddress + Size;

    /// <summary>The range as <c>base..+len</c> in hex.</summary>
    public string Range => $"0x{GuestPhysicalAddress:X}..+0x{Size:X}";

    /// <summary>Whether this slot shares a byte with the range <paramref name="guestPhysicalAddress"/>..+<paramref name="size"/>.</summary>
    public bool Overlaps(ulong guestPhysicalAddress, ulong size) =>
        guestPhysicalAddress < End && GuestPhysicalAddress < guestPhysicalAddress + size;

    /// <inheritdoc/>
    public override string ToString() => $"slot {Slot} {Range}{(ReadOnly ? " read-only" : "")} host 0x{HostAddress:X}";
}
