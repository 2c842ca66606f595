namespace KvmLab.Kvm;

/// <summary>
/// A guest write KVM recorded in the coalesced ring instead of exiting (<c>struct kvm_coalesced_mmio</c>). The
/// run loop replays these, in order, as ordinary writes before handling the next exit.
/// </summary>
/// <param name="Address">Guest-physical address (or port when <see cref="IsPio"/>).</param>
/// <param name="Length">Size in bytes (1..8).</param>
/// <param name="Data">The value written (little-endian, zero-extended).</param>
/// <param name="IsPio">True for a coalesced port write.</param>
internal readonly record struct CoalescedWrite(ulong Address, uint Length, ulong Data, bool IsPio)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"coalesced {(IsPio ? "OUT port" : "MMIO write")} 0x{Address:X} size {Length} value 0x{Data:X}";
}
