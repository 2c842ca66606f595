namespace KvmLab.Memory;

/// <summary>How an address space handled one guest access. Guest mistakes are statuses, never exceptions.</summary>
public enum AccessStatus
{
    /// <summary>A device region took every byte of the access.</summary>
    Ok,

    /// <summary>
    /// Some bytes hit no device: in "memory" they read 0, in "io" they read all-ones (QEMU 7.2's unassigned
    /// handlers); writes are dropped.
    /// </summary>
    Unassigned,

    /// <summary>
    /// The region's <see cref="IMemoryRegionOps.Valid"/> rules rejected the access before the device saw it
    /// (QEMU: <c>memory_region_access_valid</c> failed): reads give 0, writes are dropped.
    /// </summary>
    InvalidAccess,
}
