namespace KvmLab.Tracing;

/// <summary>Facts about one traced access that a reader must not miss.</summary>
[Flags]
public enum ExitFlags : byte
{
    /// <summary>Nothing special.</summary>
    None = 0,

    /// <summary>No region claimed the address: the read returned the unassigned value, the write was dropped.</summary>
    Unassigned = 1,

    /// <summary>A region exists but its valid access sizes/alignment rejected the access before the device saw it.</summary>
    Rejected = 2,

    /// <summary>A further element of the same KVM exit (string I/O with count &gt; 1): not a separate KVM_RUN.</summary>
    Continuation = 4,

    /// <summary>Replayed from the coalesced-MMIO ring: the guest's write cost no exit of its own.</summary>
    Coalesced = 8,

    /// <summary>The access ended the run (isa-debug-exit).</summary>
    EndsRun = 16,

    /// <summary>
    /// Not returned by KVM_RUN as a record of its own: derived by the VMM (a HLT seen through KVM_GET_MP_STATE while
    /// the in-kernel irqchip held the vCPU, or an access QEMU's trace shows without a KVM exit behind it).
    /// </summary>
    Observed = 32,

    /// <summary>
    /// The access reached PCI configuration space (a CONFIG_DATA access with the enable bit set, or an ECAM access):
    /// the record holds the function and register it addressed, decoded when it was dispatched
    /// (<see cref="ExitRecord.TryGetConfigTarget"/>).
    /// </summary>
    ConfigCycle = 64,

    /// <summary>
    /// Not an exit: a line of an imported trace (QEMU's) that names an event but could not be read, cut off or
    /// interleaved, so the trace may be missing an access here; <see cref="ExitRecord.Address"/> holds the line number.
    /// </summary>
    Unreadable = 128,
}
