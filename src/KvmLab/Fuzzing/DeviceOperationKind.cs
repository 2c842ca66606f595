namespace KvmLab.Fuzzing;

/// <summary>What a <see cref="DeviceOperation"/> does.</summary>
internal enum DeviceOperationKind
{
    /// <summary>A port read of 1..8 bytes.</summary>
    PioRead,

    /// <summary>A port write of 1..8 bytes.</summary>
    PioWrite,

    /// <summary>A memory-space read of 1..8 bytes.</summary>
    MmioRead,

    /// <summary>A memory-space write of 1..8 bytes.</summary>
    MmioWrite,

    /// <summary>A conf1 configuration read: CONFIG_ADDRESS, then CONFIG_DATA at a byte lane.</summary>
    ConfigRead,

    /// <summary>A conf1 configuration write.</summary>
    ConfigWrite,

    /// <summary>Writes a BAR register of edu or pci-testdev and the command register (moves or unmaps a BAR in use).</summary>
    MoveBar,

    /// <summary>Programs and starts an edu DMA with the operation's addresses and length.</summary>
    EduDma,

    /// <summary>Lets device time pass and runs due timers (completes factorials and DMA).</summary>
    AdvanceTime,
}
