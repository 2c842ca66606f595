namespace KvmLab.Tracing;

/// <summary>Which address space an exit touched and in which direction.</summary>
public enum TraceAccess : byte
{
    /// <summary>The exit was not a device access (HLT, DEBUG, SHUTDOWN, ...).</summary>
    None = 0,

    /// <summary>IN / INS: a read of the "io" address space.</summary>
    PioRead = 1,

    /// <summary>OUT / OUTS: a write to the "io" address space.</summary>
    PioWrite = 2,

    /// <summary>A load from a guest-physical address no memory slot backs.</summary>
    MmioRead = 3,

    /// <summary>A store to a guest-physical address no memory slot backs.</summary>
    MmioWrite = 4,
}

/// <summary>Helpers over <see cref="TraceAccess"/>.</summary>
public static class TraceAccessExtensions
{
    /// <summary>True for <see cref="TraceAccess.PioRead"/> and <see cref="TraceAccess.MmioRead"/>.</summary>
    public static bool IsRead(this TraceAccess access) => access is TraceAccess.PioRead or TraceAccess.MmioRead;

    /// <summary>True for <see cref="TraceAccess.PioWrite"/> and <see cref="TraceAccess.MmioWrite"/>.</summary>
    public static bool IsWrite(this TraceAccess access) => access is TraceAccess.PioWrite or TraceAccess.MmioWrite;

    /// <summary>True for port I/O accesses.</summary>
    public static bool IsPio(this TraceAccess access) => access is TraceAccess.PioRead or TraceAccess.PioWrite;

    /// <summary>True for MMIO accesses.</summary>
    public static bool IsMmio(this TraceAccess access) => access is TraceAccess.MmioRead or TraceAccess.MmioWrite;

    /// <summary>Short lower-case label used in tables and exports ("pio-read", ...).</summary>
    public static string Label(this TraceAccess access) => access switch
    {
        TraceAccess.PioRead => "pio-read",
        TraceAccess.PioWrite => "pio-write",
        TraceAccess.MmioRead => "mmio-read",
        TraceAccess.MmioWrite => "mmio-write",
        _ => "",
    };
}
