namespace KvmLab.Tracing;

/// <summary>
/// An MSI a device sent while KvmLab handled a trace record: a memory write to the local APIC's window, which
/// KvmLab passes to the in-kernel irqchip with KVM_SIGNAL_MSI (QEMU: <c>msi_notify</c>, <c>kvm_irqchip_send_msi</c>).
/// </summary>
/// <param name="AfterSequence">Index of the trace record during or after whose handling the MSI was sent.</param>
/// <param name="Device">The sending device ("edu").</param>
/// <param name="Address">Message address (0xFEE00000 | destination APIC ID &lt;&lt; 12).</param>
/// <param name="Data">Message data; on x86 its low byte is the vector.</param>
public sealed record MsiMessage(int AfterSequence, string Device, ulong Address, uint Data)
{
    /// <summary>The interrupt vector the local APIC raises (the data's low byte).</summary>
    public int Vector => (int)(Data & 0xFF);
}
