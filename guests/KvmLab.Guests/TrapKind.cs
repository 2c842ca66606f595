namespace KvmLab.Guests;

/// <summary>
/// The guest access that made KVM_RUN return, as far as finding the trapping instruction is concerned. Where RIP
/// points at such an exit depends on the access and on the KVM backend (<see cref="KvmLab.Kvm.KvmBehaviour"/>):
/// on SVM/VMX at the IN/OUT and at an MMIO read, past an MMIO write; on kvm_pvm also past an OUT.
/// </summary>
public enum TrapKind
{
    /// <summary>KVM_EXIT_IO, direction in (IN/INS).</summary>
    PortRead,

    /// <summary>KVM_EXIT_IO, direction out (OUT/OUTS).</summary>
    PortWrite,

    /// <summary>KVM_EXIT_MMIO read.</summary>
    MmioRead,

    /// <summary>KVM_EXIT_MMIO write.</summary>
    MmioWrite,
}
