namespace KvmLab.Memory;

/// <summary>Which directions a device register honours.</summary>
[Flags]
public enum RegisterAccess
{
    /// <summary>Readable.</summary>
    R = 1,

    /// <summary>Writable.</summary>
    W = 2,

    /// <summary>Readable and writable.</summary>
    RW = R | W,
}
