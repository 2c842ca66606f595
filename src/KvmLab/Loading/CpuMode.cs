namespace KvmLab.Loading;

/// <summary>The CPU mode a guest image starts in.</summary>
public enum CpuMode
{
    /// <summary>16-bit real mode: CS:IP addressing, 1 MiB reach; the state x86 resets into.</summary>
    Real,

    /// <summary>32-bit protected mode with flat 4 GiB code and data segments, paging off.</summary>
    Protected,

    /// <summary>64-bit long mode with the low 4 GiB identity-mapped by loader-built page tables.</summary>
    Long,
}
