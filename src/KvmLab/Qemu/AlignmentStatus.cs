namespace KvmLab.Qemu;

/// <summary>How one aligned row of a KvmLab trace and a QEMU trace compares.</summary>
public enum AlignmentStatus
{
    /// <summary>Same region, direction, address and size on both sides, and the same value(s).</summary>
    Match,

    /// <summary>The same access on both sides, but the value differs (for a poll: the value every read returned).</summary>
    ValueMismatch,

    /// <summary>Only KvmLab made this access.</summary>
    OnlyKvmLab,

    /// <summary>Only QEMU made (or traced) this access.</summary>
    OnlyQemu,

    /// <summary>A poll: identical reads of one register that returned one value, made a different number of times on
    /// the two sides, or by one side only right before both read the value that ended it: timing, not behaviour.</summary>
    Collapsed,

    /// <summary>
    /// A one-sided access or a value difference that a known structural difference between the two machines accounts
    /// for (QEMU's firmware stub, QEMU's PIIX3 functions and the guest's report of them, QEMU's own reset activity);
    /// the row's note names it. Not a divergence.
    /// </summary>
    Explained,
}
