namespace KvmLab.Kvm.Stats;

/// <summary>The unit of a KVM statistic (<c>KVM_STATS_UNIT_*</c>, bits 4-7 of a descriptor's flags).</summary>
public enum KvmStatUnit
{
    /// <summary>A plain count.</summary>
    None = 0,

    /// <summary>Bytes, scaled by the descriptor's exponent.</summary>
    Bytes = 1,

    /// <summary>Seconds, scaled by the exponent (-9: nanoseconds, as halt_wait_ns).</summary>
    Seconds = 2,

    /// <summary>CPU cycles.</summary>
    Cycles = 3,

    /// <summary>0 or 1 (Linux 6.0+; e.g. guest_mode, blocking).</summary>
    Boolean = 4,
}
