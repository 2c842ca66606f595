namespace KvmLab.Pci;

/// <summary>What a base address register decodes.</summary>
public enum PciBarKind
{
    /// <summary>An I/O port range.</summary>
    Io,

    /// <summary>A memory range below 4 GiB (one dword).</summary>
    Memory32,

    /// <summary>A memory range anywhere in 64-bit space (two dwords; the next BAR slot holds the high half).</summary>
    Memory64,
}
