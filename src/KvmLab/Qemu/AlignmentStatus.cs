namespace KvmLab.Qemu;

/// <summary>How one aligned row of a KvmLab trace and a QEMU trace compares.</summary>
public enum AlignmentStatus
{
    /// <summary>Same region, direction, address and size on both sides, and the same value(s).</summary>
    Match,

    /// <summary>The same access on both sides, but the value differs (for a collapsed poll: the value that ended it).</summary>
    ValueMismatch,

    /// <summary>Only KvmLab made this access.</summary>
    OnlyKvmLab,

    /// <summary>Only QEMU made (or traced) this access.</summary>
    OnlyQemu,

    /// <summary>A run of reads of one register (a poll) on both sides that ended with the same value, read a different
    /// number of times or through different intermediate values: timing, not behaviour.</summary>
    Collapsed,
}
