namespace KvmLab.Kvm.Stats;

/// <summary>What a KVM statistic's value means (<c>KVM_STATS_TYPE_*</c>, bits 0-3 of a descriptor's flags).</summary>
public enum KvmStatKind
{
    /// <summary>A counter that only grows (exits, io_exits, ...): compare two reads to see what happened between.</summary>
    Cumulative = 0,

    /// <summary>A current level (pages_4k, blocking, guest_mode): a delta is meaningless, the value is the state.</summary>
    Instant = 1,

    /// <summary>The highest level seen so far (max_mmu_rmap_size).</summary>
    Peak = 2,

    /// <summary>A histogram with buckets of equal width (<see cref="KvmStatDescriptor.BucketSize"/>).</summary>
    LinearHistogram = 3,

    /// <summary>A histogram whose bucket i holds values below 2^i (bucket 0: the value 0).</summary>
    LogHistogram = 4,
}
