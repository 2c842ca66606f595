namespace KvmLab.Pci;

/// <summary>
/// The host bridge function at 00:00.0, identified as QEMU's pc machine identifies it (Intel 440FX, 8086:1237,
/// revision 2, class 0x0600 "host bridge"). Its chipset registers (PAM, SMRAM) are not modelled: they are plain
/// read/write bytes holding QEMU 7.2's reset values (measured, tests/KvmLab.Tests/Pci/Reference), so a guest scanning
/// the bus sees the same configuration space as under QEMU.
/// </summary>
internal sealed class I440fxHostBridge : PciDevice
{
    /// <summary>Intel's vendor ID.</summary>
    public const ushort VendorIdIntel = 0x8086;

    /// <summary>The 82441FX device ID.</summary>
    public const ushort DeviceId82441 = 0x1237;

    /// <summary>0x57: RAM size in 8 MiB units, which QEMU sets for coreboot (I440FX_COREBOOT_RAM_SIZE).</summary>
    public const int CorebootRamSize = 0x57;

    /// <summary>0x72: SMRAM.</summary>
    public const int Smram = 0x72;

    /// <summary>SMRAM at reset: C_BASE_SEG = 010b.</summary>
    public const byte SmramDefault = 0x02;

    /// <summary>Creates the bridge function for a guest with <paramref name="ramSize"/> bytes of RAM (i440fx_init).</summary>
    public I440fxHostBridge(ulong ramSize = PcLayout.DefaultRamSize)
        : base("i440FX", VendorIdIntel, DeviceId82441, revision: 0x02, classCode: 0x0600, interruptPin: 0)
    {
        SetConfig8(CorebootRamSize, (byte)Math.Min(ramSize >> 23, 0xFF));
        SetConfig8(Smram, SmramDefault);
    }
}
