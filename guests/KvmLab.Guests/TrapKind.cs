namespace KvmLab.Guests;

/// <summary>The guest access that made KVM_RUN return, as far as finding the trapping instruction is concerned.</summary>
public enum TrapKind
{
    /// <summary>KVM_EXIT_IO, direction in: RIP points AT the IN/INS (it completes on the next KVM_RUN).</summary>
    PortRead,

    /// <summary>KVM_EXIT_IO, direction out: RIP already points PAST the OUT/OUTS.</summary>
    PortWrite,

    /// <summary>KVM_EXIT_MMIO read: RIP points AT the instruction (it completes on the next KVM_RUN).</summary>
    MmioRead,

    /// <summary>KVM_EXIT_MMIO write: RIP already points PAST the instruction.</summary>
    MmioWrite,
}
