namespace KvmLab.Kvm;

/// <summary>
/// A guest memory access to an address with no RAM slot (KVM_EXIT_MMIO). For a write the bytes are in
/// <see cref="Data"/> (little-endian, <see cref="Length"/> bytes) and <see cref="Vcpu.WriteData"/>; for a read the VMM
/// answers with <see cref="Vcpu.CompleteRead(ulong)"/>.
/// </summary>
/// <param name="IsWrite">True for a store.</param>
/// <param name="Address">Guest-physical address.</param>
/// <param name="Length">Access size in bytes (1..8).</param>
/// <param name="Data">For a write, the value stored (zero-extended); 0 for a read.</param>
public readonly record struct MmioExit(bool IsWrite, ulong Address, uint Length, ulong Data)
{
    /// <inheritdoc/>
    public override string ToString() => IsWrite
        ? $"MMIO write 0x{Address:X} size {Length} value 0x{Data:X}"
        : $"MMIO read 0x{Address:X} size {Length}";
}
