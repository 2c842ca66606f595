namespace KvmLab.Pci;

/// <summary>
/// The host bridge function at 00:00.0, identified as QEMU's pc machine identifies it (Intel 440FX, 8086:1237,
/// revision 2, class 0x0600 "host bridge"). Its chipset registers (PAM, SMRAM) are not modelled: they are plain
/// read/write bytes, so a guest scanning the bus sees the same identity as under QEMU.
/// </summary>
public sealed class I440fxHostBridge : PciDevice
{
    /// <summary>Intel's vendor ID.</summary>
    public const ushort VendorIdIntel = 0x8086;

    /// <summary>The 82441FX device ID.</summary>
    public const ushort DeviceId82441 = 0x1237;

    /// <summary>Creates the bridge function.</summary>
    public I440fxHostBridge()
        : base("i440FX", VendorIdIntel, DeviceId82441, revision: 0x02, classCode: 0x0600, interruptPin: 0)
    {
    }
}
