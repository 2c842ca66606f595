namespace KvmLab.Devices.Virtio;

/// <summary>
/// What a virtio device needs from its transport (QEMU: the virtio bus's <c>VirtioBusClass</c> hooks): DMA into guest
/// memory as the bus master, and raising an interrupt for a vector.
/// </summary>
internal interface IVirtioTransport
{
    /// <summary>Reads guest memory; false when the range is not all RAM or bus mastering is off.</summary>
    bool DmaRead(ulong gpa, Span<byte> destination);

    /// <summary>Writes guest memory; false when the range is not all RAM or bus mastering is off.</summary>
    bool DmaWrite(ulong gpa, ReadOnlySpan<byte> source);

    /// <summary>Signals <paramref name="vector"/> (QEMU: <c>virtio_pci_notify</c>): MSI-X when enabled, else INTx from ISR bit 0.</summary>
    void Notify(ushort vector);
}
