namespace KvmLab.Fuzzing;

/// <summary>What a <see cref="DeviceOperation"/>'s offset is relative to; BAR targets follow the BAR wherever the guest moved it.</summary>
internal enum DeviceTarget
{
    /// <summary>The offset is the address.</summary>
    Absolute,

    /// <summary>The ECAM window (MMIO) or bus/device/function/register of a conf1 cycle.</summary>
    Ecam,

    /// <summary>edu's BAR0 where it is mapped now (or where its register says, when unmapped).</summary>
    EduBar,

    /// <summary>pci-testdev's memory BAR0.</summary>
    TestdevMemoryBar,

    /// <summary>pci-testdev's I/O BAR1.</summary>
    TestdevIoBar,

    /// <summary>The conf1 ports 0xCF8..0xCFF.</summary>
    Conf1,

    /// <summary>COM1's ports.</summary>
    Com1,

    /// <summary>isa-debug-exit's port.</summary>
    IsaDebugExit,

    /// <summary>The last bytes of guest RAM (for DMA: ranges that run off its end).</summary>
    RamEnd,

    /// <summary>Any BAR of any function on the board (the offset's high half picks which), where it is mapped now:
    /// virtio's common, notify and ISR structures, MSI-X tables, the root port's BAR, the ICH9 functions' BARs.</summary>
    AnyBar,
}
