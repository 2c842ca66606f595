namespace KvmLab.Kvm;

/// <summary>
/// The x86 control-register and EFER bits KvmLab reads and sets (Intel SDM vol. 3A, 2.5 and 2.2.1): one place for
/// the loader that puts a vCPU into a mode, the checks that read the mode back and the guests that switch modes
/// themselves.
/// </summary>
internal static class ControlRegisterBits
{
    /// <summary>CR0 bit 0, PE: protected mode.</summary>
    public const ulong Cr0ProtectionEnable = 1UL << 0;

    /// <summary>CR0 bit 4, ET: extension type, hard-wired to 1 since the 486.</summary>
    public const ulong Cr0ExtensionType = 1UL << 4;

    /// <summary>CR0 bit 29, NW: not write-through (set with CD at reset).</summary>
    public const ulong Cr0NotWriteThrough = 1UL << 29;

    /// <summary>CR0 bit 30, CD: cache disable (set at reset).</summary>
    public const ulong Cr0CacheDisable = 1UL << 30;

    /// <summary>CR0 bit 31, PG: paging.</summary>
    public const ulong Cr0Paging = 1UL << 31;

    /// <summary>CR4 bit 4, PSE: 4 MiB pages in 32-bit paging.</summary>
    public const ulong Cr4PageSizeExtensions = 1UL << 4;

    /// <summary>CR4 bit 5, PAE: physical address extension, required for long mode.</summary>
    public const ulong Cr4PhysicalAddressExtension = 1UL << 5;

    /// <summary>The IA32_EFER model-specific register's number (RDMSR/WRMSR ECX).</summary>
    public const uint EferMsr = 0xC000_0080;

    /// <summary>EFER bit 8, LME: long mode enable (takes effect when CR0.PG is set).</summary>
    public const ulong EferLongModeEnable = 1UL << 8;

    /// <summary>EFER bit 10, LMA: long mode active (the CPU sets it).</summary>
    public const ulong EferLongModeActive = 1UL << 10;
}
